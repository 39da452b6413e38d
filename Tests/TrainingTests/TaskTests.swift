import Foundation
import Models
import NN
import Random
import Testing
import TensorCore
import World
@testable import Training

@Suite struct TaskTests {
    func snapshot(_ m: any Module) -> [String: [Float]] {
        Dictionary(uniqueKeysWithValues: m.namedParameters().map { ($0.0, $0.1.value.scalars) })
    }

    @Test func unetTaskTrainsTheUNetButNotTheImageBranchOrTextEncoder() throws {
        let te = try TextEncoder(config: TinyModels.text, key: RNGKey(seed: 1))
        let unet = try UNet2DConditionModel(config: TinyModels.unet, key: RNGKey(seed: 2))
        let task = UNetDenoisingTask(unet: unet, textEncoder: te, data: TinyModels.data, seed: 3, batchSize: 2)
        let (u0, t0) = (snapshot(unet), snapshot(te))
        let t = Trainer(task: task, settings: TrainSettings(steps: 1, batchSize: 2, learningRate: 1e-2, seed: 3))
        try t.trainStep()
        let (u1, t1) = (snapshot(unet), snapshot(te))
        #expect(t0 == t1)
        for (k, v) in u0 {
            if k.contains("_ip.") { #expect(u1[k] == v, "\(k) must stay frozen") }
        }
        #expect(u1["conv_in.weight"] != u0["conv_in.weight"])
        #expect(task.trainable.count == unet.namedParameters().count - unet.imageProjectionParameters().count)
    }

    @Test func unetTaskCanFineTuneTheTextEncoderWithIt() throws {
        let te = try TextEncoder(config: TinyModels.text, key: RNGKey(seed: 1))
        let unet = try UNet2DConditionModel(config: TinyModels.unet, key: RNGKey(seed: 2))
        let task = UNetDenoisingTask(unet: unet, textEncoder: te, data: TinyModels.data, seed: 3, batchSize: 2, trainTextEncoder: true)
        let t0 = snapshot(te)
        let t = Trainer(task: task, settings: TrainSettings(steps: 1, batchSize: 2, learningRate: 1e-2, seed: 3))
        try t.trainStep()
        let t1 = snapshot(te)
        #expect(t0.keys.contains { t1[$0] != t0[$0] }, "the text encoder must move")
        #expect(task.trainable.count == unet.namedParameters().count - unet.imageProjectionParameters().count + te.namedParameters().count)
        #expect(task.trainable.contains { $0.0.hasPrefix("text_model.") })
    }

    @Test func adapterTaskTrainsOnlyTheAdapterSet() throws {
        let te = try TextEncoder(config: TinyModels.text, key: RNGKey(seed: 1))
        let vit = try ViT(config: ViTConfig(imageSize: 16, patchSize: 4, width: 16, depth: 2, heads: 2, mlpDim: 32), key: RNGKey(seed: 4))
        let unet = try UNet2DConditionModel(config: TinyModels.unet, key: RNGKey(seed: 2))
        let r = try Resampler(config: ResamplerConfig(embeddingDim: 16, dim: 16, depth: 1, heads: 2, dimHead: 8, numQueries: 4, outputDim: 16),
                              key: RNGKey(seed: 5))
        let task = AdapterTask(unet: unet, resampler: r, textEncoder: te, imageEncoder: ViTReferenceEncoder(vit: vit, layer: 1),
                               data: TinyModels.data, seed: 3, batchSize: 2)
        let (u0, v0, t0, r0) = (snapshot(unet), snapshot(vit), snapshot(te), snapshot(r))
        let t = Trainer(task: task, settings: TrainSettings(steps: 1, batchSize: 2, learningRate: 1e-2, seed: 3))
        try t.trainStep()
        let (u1, v1, t1, r1) = (snapshot(unet), snapshot(vit), snapshot(te), snapshot(r))
        #expect(v0 == v1 && t0 == t1)
        for (k, v) in u0 {
            if k.hasSuffix("to_k_ip.weight") || k.hasSuffix("to_v_ip.weight") { #expect(u1[k] != v, "\(k) must train") }
            else { #expect(u1[k] == v, "\(k) must stay frozen") }
        }
        #expect(r1 != r0)
        #expect(Set(task.trainable.map(\.0)).count == r.namedParameters().count + unet.imageProjectionParameters().count)
    }

    /// The adapter's own convolutional encoder trains with it (`image_encoder.*` keys), from clean references.
    @Test func adapterTaskTrainsItsOwnConvEncoderFromCleanReferences() throws {
        let te = try TextEncoder(config: TinyModels.text, key: RNGKey(seed: 1))
        let enc = try ConvReferenceEncoder(config: ResNetConfig(imageSize: 16, widths: [8, 16], blocks: [1, 1], groups: 4), key: RNGKey(seed: 6))
        #expect(enc.tokenCount == 64 && enc.tokenWidth == 16)
        let unet = try UNet2DConditionModel(config: TinyModels.unet, key: RNGKey(seed: 2))
        let r = try Resampler(config: ResamplerConfig(embeddingDim: 16, dim: 16, depth: 1, heads: 2, dimHead: 8, numQueries: 4, outputDim: 16),
                              key: RNGKey(seed: 5))
        let task = AdapterTask(unet: unet, resampler: r, textEncoder: te, imageEncoder: enc, trainEncoder: true, reference: .clean,
                               data: TinyModels.data, seed: 3, batchSize: 2)
        let e0 = snapshot(enc)
        let t = Trainer(task: task, settings: TrainSettings(steps: 1, batchSize: 2, learningRate: 1e-2, seed: 3))
        try t.trainStep()
        let e1 = snapshot(enc)
        #expect(e1["position_embedding"] != e0["position_embedding"])
        #expect(e1["backbone.stem.conv.weight"] != e0["backbone.stem.conv.weight"])
        #expect(task.trainable.count == r.namedParameters().count + unet.imageProjectionParameters().count + enc.namedParameters().count)
        #expect(task.trainable.contains { $0.0 == "image_encoder.position_embedding" })
    }

    /// `unetLearningRateScale` > 0: every U-Net weight trains too, at that multiple of the learning rate
    /// (the adapter's own parts at the full rate); 0 keeps the U-Net frozen but for the image branch.
    @Test func adapterTaskCanTrainItsUNetAtAScaledRate() throws {
        let te = try TextEncoder(config: TinyModels.text, key: RNGKey(seed: 1))
        let enc = try ConvReferenceEncoder(config: ResNetConfig(imageSize: 16, widths: [8, 16], blocks: [1, 1], groups: 4), key: RNGKey(seed: 6))
        let unet = try UNet2DConditionModel(config: TinyModels.unet, key: RNGKey(seed: 2))
        let r = try Resampler(config: ResamplerConfig(embeddingDim: 16, dim: 16, depth: 1, heads: 2, dimHead: 8, numQueries: 4, outputDim: 16),
                              key: RNGKey(seed: 5))
        let task = AdapterTask(unet: unet, resampler: r, textEncoder: te, imageEncoder: enc, trainEncoder: true, reference: .clean,
                               data: TinyModels.data, seed: 3, batchSize: 2, unetLearningRateScale: 0.25)
        #expect(task.trainable.count == r.namedParameters().count + unet.namedParameters().count + enc.namedParameters().count)
        #expect(task.learningRateScales["conv_in.weight"] == 0.25)
        #expect(task.learningRateScales.count == unet.namedParameters().count - unet.imageProjectionParameters().count)
        #expect(!task.learningRateScales.keys.contains { $0.hasPrefix("image_proj.") || $0.hasSuffix("to_k_ip.weight") })
        let u0 = snapshot(unet)
        try Trainer(task: task, settings: TrainSettings(steps: 1, batchSize: 2, learningRate: 1e-2, seed: 3)).trainStep()
        #expect(snapshot(unet)["conv_in.weight"] != u0["conv_in.weight"])

        let frozen = AdapterTask(unet: unet, resampler: r, textEncoder: te, imageEncoder: enc, trainEncoder: true, reference: .clean,
                                 data: TinyModels.data, seed: 3, batchSize: 2)
        #expect(frozen.learningRateScales.isEmpty && !frozen.trainable.contains { $0.0 == "conv_in.weight" })
    }

    /// Fresh tiny models (U-Net, resampler, text tower, conv reference encoder) handed to `make`, the same seeds each call.
    func cleanReferenceTask(_ make: (UNet2DConditionModel, Resampler, TextEncoder, ConvReferenceEncoder) -> AdapterTask) throws -> AdapterTask {
        let te = try TextEncoder(config: TinyModels.text, key: RNGKey(seed: 1))
        let enc = try ConvReferenceEncoder(config: ResNetConfig(imageSize: 16, widths: [8, 16], blocks: [1, 1], groups: 4), key: RNGKey(seed: 6))
        let unet = try UNet2DConditionModel(config: TinyModels.unet, key: RNGKey(seed: 2))
        let r = try Resampler(config: ResamplerConfig(embeddingDim: 16, dim: 16, depth: 1, heads: 2, dimHead: 8, numQueries: 4, outputDim: 16),
                              key: RNGKey(seed: 5))
        return make(unet, r, te, enc)
    }

    /// Reference attention in training: a row whose image is dropped reads no reference key, so with every image
    /// dropped the loss equals the plain task's (1e-5); with the reference read it differs, and a step moves the U-Net.
    @Test func adapterTaskWithReferenceAttention() throws {
        func task(_ referenceAttention: Bool, dropImage: Float) throws -> AdapterTask {
            try cleanReferenceTask { unet, r, te, enc in
                AdapterTask(unet: unet, resampler: r, textEncoder: te, imageEncoder: enc, trainEncoder: true, reference: .clean,
                            data: TinyModels.data, seed: 3, batchSize: 2, dropText: 0, dropImage: dropImage, dropBoth: 0,
                            unetLearningRateScale: 0.5, referenceAttention: referenceAttention)
            }
        }
        let droppedPlain = try task(false, dropImage: 1).loss(step: 0).value.scalars[0]
        let droppedCoupled = try task(true, dropImage: 1).loss(step: 0).value.scalars[0]
        #expect(abs(droppedPlain - droppedCoupled) < 1e-5, "\(droppedPlain) vs \(droppedCoupled)")
        let plain = try task(false, dropImage: 0).loss(step: 0).value.scalars[0]
        let coupled = try task(true, dropImage: 0)
        let l = try coupled.loss(step: 0).value.scalars[0]
        #expect(l.isFinite && abs(l - plain) > 1e-6, "\(plain) vs \(l)")
        let u0 = snapshot(coupled.unet)
        try Trainer(task: coupled, settings: TrainSettings(steps: 1, batchSize: 2, learningRate: 1e-2, seed: 3)).trainStep()
        #expect(snapshot(coupled.unet)["conv_in.weight"] != u0["conv_in.weight"])
    }

    /// `referenceTimestep` k: the reference is diffused to min(k, t). k above every timestep is the matched task
    /// exactly; k = 0 changes the loss, and a row whose image is dropped (it reads no reference key) still denoises at
    /// its own t, so its loss equals the plain task's (a reference timestep given to the image row would not).
    @Test func adapterTaskWithACleanReference() throws {
        func task(_ k: Int?, dropImage: Float) throws -> AdapterTask {
            try cleanReferenceTask { unet, r, te, enc in
                AdapterTask(unet: unet, resampler: r, textEncoder: te, imageEncoder: enc, trainEncoder: true, reference: .clean,
                            data: TinyModels.data, seed: 3, batchSize: 2, dropText: 0, dropImage: dropImage, dropBoth: 0,
                            unetLearningRateScale: 0.5, referenceAttention: k != -1, referenceTimestep: k == -1 ? nil : k)
            }
        }
        let matched = try task(nil, dropImage: 0).loss(step: 0).value.scalars[0]
        let capped = try task(999, dropImage: 0).loss(step: 0).value.scalars[0]
        #expect(matched == capped, "\(matched) vs \(capped)")
        let clean = try task(0, dropImage: 0).loss(step: 0).value.scalars[0]
        #expect(clean.isFinite && abs(clean - matched) > 1e-6, "\(matched) vs \(clean)")
        let droppedPlain = try task(-1, dropImage: 1).loss(step: 0).value.scalars[0]
        let droppedClean = try task(0, dropImage: 1).loss(step: 0).value.scalars[0]
        #expect(abs(droppedPlain - droppedClean) < 1e-5, "\(droppedPlain) vs \(droppedClean)")
    }

    /// `referenceFlip` / `referenceRotate`: a row's clean reference takes its target's mirroring / in-plane rotation (and
    /// nothing else of its pose), which changes the loss; with every pose upright (randomPose off) there is nothing to
    /// take and the loss is the plain task's exactly.
    @Test func adapterTaskPosesTheReferenceAsItsTarget() throws {
        func task(flip: Bool, rotate: Bool, randomPose: Bool = true) throws -> AdapterTask {
            var data = TinyModels.data
            data.randomPose = randomPose
            return try cleanReferenceTask { unet, r, te, enc in
                AdapterTask(unet: unet, resampler: r, textEncoder: te, imageEncoder: enc, trainEncoder: true, reference: .clean,
                            data: data, seed: 3, batchSize: 4, dropText: 0, dropImage: 0, dropBoth: 0, referenceFlip: flip,
                            referenceRotate: rotate)
            }
        }
        let target = Pose(centerX: 0.45, centerY: 0.55, scale: 0.31, rotationDegrees: -20, flipped: true, perspectiveX: 0.1, perspectiveY: -0.1)
        #expect(try task(flip: false, rotate: false).referencePoses(targets: [target]) == nil)
        #expect(try task(flip: true, rotate: false).referencePoses(targets: [target]) == [Pose(flipped: true)])
        #expect(try task(flip: false, rotate: true).referencePoses(targets: [target]) == [Pose(rotationDegrees: -20)])
        #expect(try task(flip: true, rotate: true).referencePoses(targets: [target]) == [Pose(rotationDegrees: -20, flipped: true)])
        #expect(try WorldData.batch(seed: 3, step: 0, size: 4, config: TinyModels.data).poses.contains { $0.flipped })
        let plain = try task(flip: false, rotate: false).loss(step: 0).value.scalars[0]
        for (f, r) in [(true, false), (false, true)] {
            let l = try task(flip: f, rotate: r).loss(step: 0).value.scalars[0]
            #expect(l.isFinite && abs(l - plain) > 1e-6, "flip \(f) rotate \(r): \(plain) vs \(l)")
        }
        let still = try task(flip: false, rotate: false, randomPose: false).loss(step: 0).value.scalars[0]
        #expect(try task(flip: true, rotate: true, randomPose: false).loss(step: 0).value.scalars[0] == still)
    }

    /// `attributeWeight`: heads on the encoder's pooled tokens (keys `attribute_heads.*`) add w x their mean
    /// cross-entropy (> 0) to the same step's denoising loss, and train with the encoder.
    @Test func adapterTaskAddsTheReferenceAttributeLoss() throws {
        func task(_ w: Float) throws -> AdapterTask {
            try cleanReferenceTask { unet, r, te, enc in
                AdapterTask(unet: unet, resampler: r, textEncoder: te, imageEncoder: enc, trainEncoder: true, reference: .clean,
                            data: TinyModels.data, seed: 3, batchSize: 2, attributeWeight: w)
            }
        }
        let plain = try task(0), aux = try task(0.5)
        let l0 = try plain.loss(step: 0).value.scalars[0], l1 = try aux.loss(step: 0).value.scalars[0]
        // Seven heads, each at least ln-uniform-ish at init: the term is well above float noise.
        #expect(l1 - l0 > 0.5 * 0.5, "\(l0) -> \(l1)")
        #expect(aux.trainable.contains { $0.0 == "attribute_heads.body_pattern.weight" })
        #expect(!plain.trainable.contains { $0.0.hasPrefix("attribute_heads.") })
        let heads = aux.attributeHeads!.namedParameters().first { $0.0 == "body_pattern.weight" }!.1
        let h0 = heads.value
        try Trainer(task: aux, settings: TrainSettings(steps: 1, batchSize: 2, learningRate: 1e-2, seed: 3)).trainStep()
        #expect(heads.value != h0)
    }

    @Test func conditionDropoutSplitsFivePercentEach() {
        let cases: [(Float, Bool, Bool)] = [(0.01, true, false), (0.049, true, false), (0.05, false, true), (0.07, false, true),
                                            (0.10, true, true), (0.149, true, true), (0.15, false, false), (0.9, false, false)]
        for (u, text, image) in cases {
            let d = AdapterTask.drops(u: u, text: 0.05, image: 0.05, both: 0.05)
            #expect(d.text == text && d.image == image, "u = \(u)")
        }
        let u = dropoutDraws(seed: 1, step: 2, count: 4000)
        let textOnly = u.filter { $0 < 0.05 }.count
        #expect(textOnly > 150 && textOnly < 250, "about 5% of 4000")
        #expect(dropoutDraws(seed: 1, step: 2, count: 5) == Array(u.prefix(5)))
        #expect(dropoutDraws(seed: 1, step: 3, count: 5) != Array(u.prefix(5)))
    }

    @Test func clipTaskClampsTheLogitScale() throws {
        let cfg = CLIPConfig(vision: ViTConfig(imageSize: 16, patchSize: 4, width: 16, depth: 2, heads: 2, mlpDim: 32),
                             text: TinyModels.text, embedDim: 8, logitScaleInit: 9)
        let clip = try CLIPModel(config: cfg, key: RNGKey(seed: 1))
        let task = CLIPContrastiveTask(clip: clip, data: TinyModels.data, seed: 2, batchSize: 4)
        try Trainer(task: task, settings: TrainSettings(steps: 1, batchSize: 4, learningRate: 1e-3, seed: 2)).trainStep()
        #expect(abs(clip.logitScale.value.scalars[0] - Float(log(100.0))) < 1e-6)
    }

    @Test func gatePredictionsAreRowArgmax() {
        let t = Tensor(shape: [3, 3], scalars: [0, 2, 1, 5, -1, 0, 0, 0, 0.5])
        #expect(Gates.predictions(t) == [1, 0, 2])
        #expect(Gates.transpose(t).scalars == [0, 5, 0, 2, -1, 0, 1, 0, 0.5])
    }
}
