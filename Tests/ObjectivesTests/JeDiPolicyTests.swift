import Autograd
import Diffusion
import Models
import Optim
import Random
import Testing
import TensorCore
import TestSupport
@testable import Objectives

/// JeDi as the preference-trained generator (`JeDiPolicy`, issue 17 item 5): its forward is the sampler's joint set
/// [reference; row], dropout reaches the reference, and a step trains only the chosen weights.
@Suite struct JeDiPolicyTests {
    /// The xs U-Net widened to JeDi's 2c + 1 input channels, with a non-zero mask/clean input (fresh zero-initialised
    /// channels would hide the reference).
    static func jediUNet(seed: UInt64 = 5) -> UNet2DConditionModel {
        let u = try! JeDiUNet.fromBase(try! UNet2DConditionModel(config: .xs, key: RNGKey(seed: seed).fold(in: "unet")))
        let (_, w) = u.namedParameters().first { $0.0 == "conv_in.weight" }!
        w.value = Kernels.add(w.value, Kernels.scale(normalTensor(w.shape, seed: seed + 1), 0.1))
        return u
    }

    /// A tiny batch coupled to references with their captions.
    static func batch(pairs: Int = 2) -> PreferenceBatch {
        var b = tinyBatch(pairs: pairs)
        b.coupling = ReferenceCoupling(references: normalTensor([pairs, 3, 8, 8], seed: 91),
                                       texts: normalTensor([pairs, 3, UNetConfig.xs.crossAttentionDim], seed: 92))
        return b
    }

    static func maxDifference(_ a: Tensor, _ b: Tensor) -> Float { zip(a.scalars, b.scalars).map { abs($0 - $1) }.max() ?? 0 }

    /// The policy's prediction for row i is the generated member's eps when the U-Net denoises the set
    /// [reference_i (known: m = 0, clean reference), x_i (m = 1)] with [caption_i, text_i], built here directly with
    /// `JeDiUNet.input` one set at a time; a dropped image makes the reference unknown, as the sampler's null image.
    @Test func predictionIsTheGeneratedMemberOfTheJointSet() {
        let unet = Self.jediUNet(), policy = JeDiPolicy(unet: unet, trainable: .attention)
        var batch = Self.batch()
        var rng = RandomStream(seed: 4)
        let draw = PairNoise.draw(pairs: 2, imageShape: [3, 8, 8], trainSteps: 1000, withStepNoise: false, withReferenceNoise: true, rng: &rng)
        let (t, _) = draw.stacked(rows: 2)
        let xt = draw.noisy(batch.stackedImages(rows: 2), rows: 2, schedule: NoiseSchedule())
        let text = PreferenceBatch.repeatRows(batch.text, rows: 2)
        batch.coupling!.dropReference(pair: 1)
        let refs = batch.coupling!.diffused(rows: 2, timesteps: t, noise: draw.referenceNoise!, schedule: NoiseSchedule())
        #expect(refs.known == [true, false, true, false])
        let got = withNoGrad { policy.predict(xt, timesteps: t, text: text, imageFeatures: Tensor(zeros: [4, 1, 1]), coupled: refs).value }
        for r in 0..<4 {
            let row = { (x: Tensor) in Kernels.slice(x, axis: 0, start: r, length: 1) }
            let set = Kernels.concat([row(refs.references), row(xt)], axis: 0)
            let clean = Kernels.concat([row(refs.clean), Tensor(zeros: [1, 3, 8, 8])], axis: 0)
            let input = JeDiUNet.input(noisy: set, clean: clean, known: [refs.known[r], false])
            let y = withNoGrad {
                unet.forward(Variable(input), timesteps: [t[r], t[r]], text: Variable(Kernels.concat([row(refs.texts!), row(text)], axis: 0)),
                             imageTokens: nil, ipScale: 0, setSize: 2).value
            }
            let d = Self.maxDifference(row(got), Kernels.slice(y, axis: 0, start: 1, length: 1))
            #expect(d < 1e-5, "row \(r): \(d)")
        }
        // The reference is read: knowing it changes the prediction.
        var known = refs
        known.known = [true, true, true, true]
        let withRef = withNoGrad { policy.predict(xt, timesteps: t, text: text, imageFeatures: Tensor(zeros: [4, 1, 1]), coupled: known).value }
        #expect(Self.maxDifference(Kernels.slice(withRef, axis: 0, start: 1, length: 1), Kernels.slice(got, axis: 0, start: 1, length: 1)) > 1e-4)
    }

    /// Text dropout nulls the pair's reference caption too (JeDi's null text is every member's).
    @Test func droppingTheTextNullsTheReferenceCaption() {
        let batch = Self.batch(pairs: 3)
        var rng = RandomStream(seed: 1)
        let null = Tensor(zeros: [1, 3, UNetConfig.xs.crossAttentionDim])
        let (out, dropped) = ConditionDropout(text: 1, image: 0, both: 0).apply(batch, nullText: null, nullImage: Tensor(zeros: [1, 5, 32]), rng: &rng)
        #expect(dropped == 3 && out.coupling!.texts!.scalars.allSatisfy { $0 == 0 } && out.coupling!.dropped == [false, false, false])
    }

    /// A patchdpo step changes exactly the coupled self-attention (`attention`) or every weight (`all`); the loss is
    /// finite, and a batch without references is refused naming the field.
    @Test func aStepTrainsOnlyTheChosenWeights() throws {
        for trainable in JeDiTrainable.allCases {
            let unet = Self.jediUNet(), policy = JeDiPolicy(unet: unet, trainable: trainable)
            let before = Dictionary(uniqueKeysWithValues: unet.namedParameters().map { ($0.0, $0.1.value) })
            var rng = RandomStream(seed: 3)
            var opt = AdamW(learningRate: 1e-2, weightDecay: 0)
            let objective = PreferenceObjective(kind: .patchdpo)
            let m = try objective.step(policy: policy, batch: Self.batch(), rng: &rng, optimizer: &opt, maxGradNorm: 1)
            #expect(m.loss.isFinite && m.gradNorm > 0)
            let changed = Set(unet.namedParameters().filter { before[$0.0]! != $0.1.value }.map(\.0))
            // The IP-Adapter's image projections get no gradient (JeDi reads no image tokens): they never move.
            let want = Set(unet.namedParameters().map(\.0).filter { trainable.includes($0) && !$0.contains("_ip.") })
            let wrong = changed.symmetricDifference(want).sorted()
            #expect(wrong.isEmpty, "\(trainable): \(wrong.count) keys differ, e.g. \(wrong.prefix(3))")
            #expect(trainable == .all || (want.count > 0 && want.allSatisfy { $0.contains(".attn1.") }))
        }
        var plain = Self.batch()
        plain.coupling = nil
        var rng = RandomStream(seed: 3)
        let draw = PairNoise.draw(pairs: 2, imageShape: [3, 8, 8], trainSteps: 1000, withStepNoise: false, withReferenceNoise: false, rng: &rng)
        #expect(throws: ObjectivesError.badBatch(field: "coupling", reason: "is missing; a JeDi policy denoises each row beside its pair's reference (ReferenceCoupling(references:texts:))")) {
            _ = try PreferenceObjective(kind: .dm).loss(policy: JeDiPolicy(unet: Self.jediUNet(), trainable: .attention), batch: plain, draw: draw)
        }
    }

    /// eps_ref is the frozen copy's prediction: equal to eps_theta before training, different after the weights move,
    /// and the weights are restored after it.
    @Test func theReferenceModelIsTheFrozenCopy() {
        let policy = JeDiPolicy(unet: Self.jediUNet(), trainable: .attention)
        let batch = Self.batch()
        var rng = RandomStream(seed: 4)
        let draw = PairNoise.draw(pairs: 2, imageShape: [3, 8, 8], trainSteps: 1000, withStepNoise: false, withReferenceNoise: true, rng: &rng)
        let (t, _) = draw.stacked(rows: 1)
        let xt = draw.noisy(batch.first, rows: 1, schedule: NoiseSchedule())
        let refs = batch.coupling!.diffused(rows: 1, timesteps: t, noise: draw.referenceNoise!, schedule: NoiseSchedule())
        let z = Tensor(zeros: [2, 1, 1])
        let eps = { withNoGrad { policy.predict(xt, timesteps: t, text: batch.text, imageFeatures: z, coupled: refs).value } }
        #expect(eps() == policy.predictReference(xt, timesteps: t, text: batch.text, imageFeatures: z, coupled: refs))
        for (i, (_, p)) in policy.trainable.enumerated() { p.value = Kernels.add(p.value, Kernels.scale(normalTensor(p.shape, seed: 300 + UInt64(i)), 0.05)) }
        let moved = eps()
        let ref = policy.predictReference(xt, timesteps: t, text: batch.text, imageFeatures: z, coupled: refs)
        #expect(Self.maxDifference(moved, ref) > 1e-4 && eps() == moved)
    }
}
