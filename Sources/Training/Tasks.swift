import Autograd
import Diffusion
import Generation
import Models
import NN
import Random
import TensorCore
import Text
import World

/// (a) ViT by object-category classification on world renders (random backgrounds and poses):
/// L = CE(head(norm(ViT(x))[:, 0]), category).
public final class ViTClassificationTask: PretrainTask {
    public let vit: ViT
    public let data: WorldDataConfig
    public let seed: UInt64
    public let batchSize: Int
    /// Weight of `ForegroundAuxiliary`'s figure-ground loss (0: plain classification, no extra head).
    public let foregroundWeight: Float
    /// The auxiliary head (`fg_head.*` in training checkpoints; never in the saved ViT), nil when the weight is 0.
    public let foregroundHead: Linear?

    public init(vit: ViT, data: WorldDataConfig, seed: UInt64, batchSize: Int, foregroundWeight: Float = 0) {
        precondition(vit.head != nil, "ViTClassificationTask: the ViT needs a head (config.classes)")
        precondition(foregroundWeight >= 0, "ViTClassificationTask: foregroundWeight \(foregroundWeight) must be >= 0")
        self.vit = vit; self.data = data; self.seed = seed; self.batchSize = batchSize
        self.foregroundWeight = foregroundWeight
        foregroundHead = foregroundWeight > 0 ? Linear(vit.config.width, 1, key: RNGKey(seed: seed).fold(in: "fg_head")) : nil
    }

    public var trainable: [(String, Parameter)] {
        vit.namedParameters() + (foregroundHead.map { h in h.namedParameters().map { ("fg_head." + $0.0, $0.1) } } ?? [])
    }

    public func loss(step: Int) throws -> Variable {
        loss(on: try WorldData.batch(seed: seed, step: step, size: batchSize, config: data)).loss
    }

    /// Cross-entropy (+ the weighted figure-ground loss) on a given batch, with the logits (for
    /// accuracy): what `loss(step:)` computes on its own batch, for callers that draw their own data.
    public func loss(on b: WorldBatch) -> (loss: Variable, logits: Variable) {
        vit.train(true)
        let out = vit.forward(Variable(b.images))
        let logits = vit.logits(from: out)
        let ce = crossEntropyLoss(logits, targets: b.labels)
        guard let foregroundHead else { return (ce, logits) }
        let target = ForegroundAuxiliary.cellCoverage(b.coverage, batch: b.labels.count, size: b.images.shape[2],
                                                      patch: vit.config.patchSize)
        return (ce + ForegroundAuxiliary.loss(out, head: foregroundHead, target: target) * foregroundWeight, logits)
    }
}

/// (b) CLIP-style pair trained contrastively on (render, prompt) pairs: symmetric InfoNCE over
/// the batch, logit scale clamped to [0, log 100] after every update (open_clip). A row's prompt is
/// the plain one, or with probability `attributeFraction` (a keyed draw per (seed, step, row)) the
/// comprehensive caption naming colour, pattern and decal (`Prompts.comprehensive`; the clip-judge).
public final class CLIPContrastiveTask: PretrainTask {
    public let clip: CLIPModel
    public let tokenizer: WordTokenizer
    public let data: WorldDataConfig
    public let seed: UInt64
    public let batchSize: Int
    public let attributeFraction: Float

    public init(clip: CLIPModel, tokenizer: WordTokenizer = WorldText.tokenizer(), data: WorldDataConfig, seed: UInt64, batchSize: Int,
                attributeFraction: Float = 0) {
        self.clip = clip; self.tokenizer = tokenizer; self.data = data; self.seed = seed; self.batchSize = batchSize
        self.attributeFraction = attributeFraction
    }

    public var trainable: [(String, Parameter)] { clip.namedParameters() }

    /// The prompts of batch `step`'s rows (plain or comprehensive, see the type's doc).
    public func prompts(_ b: WorldBatch, step: Int) -> [String] {
        guard attributeFraction > 0 else { return b.prompts }
        let k = RNGKey(seed: seed).fold(in: "captions").fold(in: UInt64(step))
        return b.prompts.indices.map { i in
            k.uniform(at: UInt64(i)) < attributeFraction ? Prompts.comprehensive(b.subjects[i], b.backgrounds[i]) : b.prompts[i]
        }
    }

    public func loss(step: Int) throws -> Variable {
        clip.train(true)
        let b = try WorldData.batch(seed: seed, step: step, size: batchSize, config: data)
        return clip.contrastiveLoss(images: Variable(b.images), ids: prompts(b, step: step).map(tokenizer.encode))
    }

    public func afterUpdate() { clip.clampLogitScale() }
}

/// Noise-prediction loss shared by the U-Net and adapter tasks (DDPM, epsilon prediction):
/// t ~ U{0..T-1}, eps ~ N(0, I) per row from (seed, step, row); x_t = sqrt(abar_t) x0 + sqrt(1-abar_t) eps;
/// L = mean (eps_theta(x_t, t, c) - eps)^2.
struct DenoisingDraw {
    let timesteps: [Int]
    let noise: Tensor
    let noisy: Tensor

    init(x0: Tensor, schedule: NoiseSchedule, seed: UInt64, step: Int) {
        let b = x0.shape[0]
        let k = RNGKey(seed: seed).fold(in: "denoise").fold(in: UInt64(step))
        timesteps = (0..<b).map { i in min(schedule.trainSteps - 1, Int(k.fold(in: "t").uniform(at: UInt64(i)) * Float(schedule.trainSteps))) }
        noise = Init.normal(x0.shape, key: k.fold(in: "eps"))
        noisy = schedule.addNoise(x0, noise: noise, timesteps: timesteps)
    }

    /// The denoising loss of a prediction eps_hat of `noise`: mean over rows of
    /// w_t * mean((eps_hat - eps)^2), with min-SNR-gamma weighting (Hang et al. 2023, epsilon
    /// prediction) w_t = min(SNR_t, gamma) / SNR_t, SNR_t = abar_t / (1 - abar_t), which stops the
    /// easy low-noise steps from dominating the gradient; gamma = 0 is plain MSE (w = 1).
    ///
    /// `cellWeights` [B, 1, h, w] (mean 1 per row, see `DenoisingDraw.objectWeights`) weight the squared
    /// error per cell before the mean, broadcast over channels.
    func loss(_ prediction: Variable, schedule: NoiseSchedule, snrGamma: Float, cellWeights: Tensor? = nil) -> Variable {
        guard snrGamma > 0 || cellWeights != nil else { return mseLoss(prediction, Variable(noise)) }
        var sq = (prediction - Variable(noise)).squared()
        if let cellWeights { sq = sq * Variable(cellWeights) }
        guard snrGamma > 0 else { return sq.mean() }
        let b = timesteps.count
        let perRow = sq.reshaped([b, sq.value.count / b]).mean(axes: [1])
        return (perRow * Variable(Tensor(shape: [b], scalars: Self.minSNRWeights(timesteps, schedule: schedule, gamma: snrGamma)))).mean()
    }

    /// min-SNR-gamma weights (epsilon prediction) w_t = min(SNR_t, gamma) / SNR_t, SNR_t = abar_t / (1 - abar_t), one per timestep.
    static func minSNRWeights(_ timesteps: [Int], schedule: NoiseSchedule, gamma: Float) -> [Float] {
        timesteps.map { t -> Float in
            let abar = schedule.alphaBar(t), snr = abar / max(1 - abar, 1e-12)
            return Float(min(snr, Double(gamma)) / snr)
        }
    }

    /// Object-weighted denoising: per-cell weights [B, 1, g, g] = 1 + objectWeight * (the object's coverage
    /// of the cell), normalised to mean 1 per row, on the grid the U-Net denoises (pixels, or latent
    /// cells: coverage box-averaged over each f x f block). The object is a fraction of a 32 px scene and
    /// the background texture dominates a plain mean; the world's masks say where the subject is.
    /// nil when objectWeight is 0.
    static func objectWeights(coverage: [Float], batch: Int, side: Int, grid: Int, objectWeight: Float) -> Tensor? {
        guard objectWeight > 0 else { return nil }
        precondition(side % grid == 0, "objectWeights: grid \(grid) does not divide \(side)")
        let f = side / grid
        var pooled = [Float](repeating: 0, count: batch * grid * grid)
        for r in 0..<batch {
            for y in 0..<side {
                for x in 0..<side {
                    pooled[(r * grid + y / f) * grid + x / f] += coverage[(r * side + y) * side + x] / Float(f * f)
                }
            }
        }
        return AutoencoderTask.pixelWeights(coverage: pooled, batch: batch, side: grid, objectWeight: objectWeight)
    }
}

/// Per-row condition dropout draws from (seed, step): u_i ~ U(0, 1).
func dropoutDraws(seed: UInt64, step: Int, count: Int) -> [Float] {
    let k = RNGKey(seed: seed).fold(in: "cond-dropout").fold(in: UInt64(step))
    return (0..<count).map { k.uniform(at: UInt64($0)) }
}

/// (c) Base text-to-image U-Net on "a {object} in the {background}" renders, text conditioning only:
/// the image branch is off (no image tokens, ip_scale 0). The text encoder (CLIP's) is frozen; the
/// prompt is replaced by the empty prompt with probability `textDropout` (CFG, MODELS.md: 0.1).
public final class UNetDenoisingTask: PretrainTask {
    public let unet: UNet2DConditionModel
    public let textEncoder: TextEncoder
    public let tokenizer: WordTokenizer
    public let schedule: NoiseSchedule
    public let data: WorldDataConfig
    public let seed: UInt64
    public let batchSize: Int
    public let textDropout: Float
    /// Latent diffusion: the frozen autoencoder whose scaled latents the U-Net denoises (nil = pixels).
    public let vae: AutoencoderKL?
    /// min-SNR-gamma loss weighting (0 = off; see `DenoisingDraw.loss`).
    public let snrGamma: Float
    /// Extra weight of object cells in the loss (0 = plain mean; see `DenoisingDraw.objectWeights`).
    public let objectWeight: Float
    /// Fine-tune the text encoder with the U-Net (its keys `text_model.*` among the trainable ones).
    public let trainTextEncoder: Bool

    public init(unet: UNet2DConditionModel, textEncoder: TextEncoder, tokenizer: WordTokenizer = WorldText.tokenizer(),
                schedule: NoiseSchedule = NoiseSchedule(), data: WorldDataConfig, seed: UInt64, batchSize: Int,
                textDropout: Float = 0.1, vae: AutoencoderKL? = nil, snrGamma: Float = 0, objectWeight: Float = 0,
                trainTextEncoder: Bool = false) {
        precondition(objectWeight >= 0, "UNetDenoisingTask: objectWeight \(objectWeight) must be >= 0")
        self.unet = unet; self.textEncoder = textEncoder; self.tokenizer = tokenizer; self.schedule = schedule
        self.data = data; self.seed = seed; self.batchSize = batchSize; self.textDropout = textDropout
        self.vae = vae; self.snrGamma = snrGamma; self.objectWeight = objectWeight; self.trainTextEncoder = trainTextEncoder
        vae?.setRequiresGrad(false)
        vae?.train(false)
        textEncoder.setRequiresGrad(trainTextEncoder)
        textEncoder.train(false)
        // The image branch never runs here, so its projections stay as initialised (and untrained).
        unet.setRequiresGrad(true)
        for (_, p) in unet.imageProjectionParameters() { p.requiresGrad = false }
    }

    public var trainable: [(String, Parameter)] {
        unet.namedParameters().filter { $0.1.requiresGrad }
            + (trainTextEncoder ? textEncoder.namedParameters().map { ("text_model." + $0.0, $0.1) } : [])
    }

    public func loss(step: Int) throws -> Variable {
        unet.train(true)
        let b = try WorldData.batch(seed: seed, step: step, size: batchSize, config: data)
        let u = dropoutDraws(seed: seed, step: step, count: batchSize)
        let prompts = zip(b.prompts, u).map { $1 < textDropout ? WorldText.nullPrompt : $0 }
        let ids = prompts.map(tokenizer.encode)
        let text = trainTextEncoder ? textEncoder.forward(ids).states : Variable(withNoGrad { textEncoder.forward(ids).states.value })
        let x0 = AutoencoderKL.diffusionSpace(b.images, vae: vae)
        let d = DenoisingDraw(x0: x0, schedule: schedule, seed: seed, step: step)
        let eps = unet.forward(Variable(d.noisy), timesteps: d.timesteps, text: text, imageTokens: nil, ipScale: 0)
        let w = DenoisingDraw.objectWeights(coverage: b.coverage, batch: batchSize, side: data.resolution, grid: x0.shape[2],
                                            objectWeight: objectWeight)
        return d.loss(eps, schedule: schedule, snrGamma: snrGamma, cellWeights: w)
    }
}

/// Which image of its subject an adapter training row reads as the reference.
public enum AdapterReference: String, Sendable, CaseIterable {
    /// The target image itself (IP-Adapter's reconstruction training).
    case same
    /// The subject's clean canonical render (`WorldData.references`), which is what personalization
    /// gives the generator at test time, while the target shows the subject in its scene and pose: the
    /// adapter learns to carry the subject, not to copy the reference's layout and background.
    case clean
}

/// (d) Adapter (resampler + every to_k_ip/to_v_ip, and the reference encoder when it is the adapter's
/// own, `trainEncoder`; U-Net and text encoder frozen) by denoising the batch's images given a
/// reference (`reference`: the image itself or the subject's clean render), with condition dropout:
/// per row, u < pText drops the text, pText <= u < pText + pImage drops the image, the next pBoth
/// drops both (0.05 each). A dropped image is the zero image, so its tokens are
/// resampler(encoder(0)), the sampler's null tokens.
public final class AdapterTask: PretrainTask {
    public let unet: UNet2DConditionModel
    public let resampler: Resampler
    public let textEncoder: TextEncoder
    public let imageEncoder: any ReferenceEncoder
    public let trainEncoder: Bool
    public let reference: AdapterReference
    public let tokenizer: WordTokenizer
    public let schedule: NoiseSchedule
    public let data: WorldDataConfig
    public let seed: UInt64
    public let batchSize: Int
    public let dropText: Float, dropImage: Float, dropBoth: Float
    /// Latent diffusion: the frozen autoencoder (nil = pixels); references stay images.
    public let vae: AutoencoderKL?
    /// min-SNR-gamma loss weighting (0 = off).
    public let snrGamma: Float
    /// Extra weight of object cells in the loss (0 = plain mean; see `DenoisingDraw.objectWeights`).
    public let objectWeight: Float
    /// The U-Net's own weights train too, at this multiple of the learning rate (0 = frozen, IP-Adapter;
    /// > 0 = the personalized generator's U-Net is fine-tuned with its adapter, as ELITE and JeDi tune theirs).
    public let unetLearningRateScale: Double
    /// Weight of the reference encoder's world-attribute loss (`ReferenceAttributeHeads`; 0 = off; needs a trained encoder).
    public let attributeWeight: Float
    public let attributeHeads: ReferenceAttributeHeads?
    /// Reference attention in training (`Generation.ReferenceAttention`, needs `reference = .clean`): every row is
    /// denoised as the set [its clean reference diffused to the row's timestep, the row], the row's self-attention
    /// reading the reference's foreground keys (`ReferenceSetMask`; a row whose image is dropped reads none), and
    /// the loss is on the rows only.
    public let referenceAttention: Bool
    /// Under reference attention, the timestep the reference is diffused to: min(k, t) (0 = the clean reference, as
    /// ReferenceNet reads it); nil = the row's own t.
    public let referenceTimestep: Int?
    /// With `reference = .clean`: a row whose target the world drew mirrored (`Pose.flipped`, half the rows) reads its
    /// clean reference mirrored too, so the reference tells the generator which way the subject faces. Off, the
    /// upright reference stands for both facings and an asymmetric subject (a sneaker) is learnt as their average.
    public let referenceFlip: Bool
    /// With `reference = .clean`: the clean reference also takes its target's in-plane rotation (still centred, at the
    /// canonical scale, no perspective), so the reference's patterns are oriented as the target's.
    public let referenceRotate: Bool
    let params: [(String, Parameter)]
    /// Per-parameter learning-rate multiples: the tuned U-Net's weights at `unetLearningRateScale`, except those
    /// under `fullRateUNetPrefixes` (blocks new to this training, such as full-resolution attention), which train at
    /// the adapter's rate.
    public let learningRateScales: [String: Double]

    public init(unet: UNet2DConditionModel, resampler: Resampler, textEncoder: TextEncoder, imageEncoder: any ReferenceEncoder,
                trainEncoder: Bool = false, reference: AdapterReference = .same, tokenizer: WordTokenizer = WorldText.tokenizer(),
                schedule: NoiseSchedule = NoiseSchedule(), data: WorldDataConfig, seed: UInt64, batchSize: Int,
                dropText: Float = 0.05, dropImage: Float = 0.05, dropBoth: Float = 0.05, vae: AutoencoderKL? = nil, snrGamma: Float = 0,
                objectWeight: Float = 0, unetLearningRateScale: Double = 0, attributeWeight: Float = 0,
                referenceAttention: Bool = false, referenceTimestep: Int? = nil, referenceFlip: Bool = false,
                referenceRotate: Bool = false, fullRateUNetPrefixes: [String] = []) {
        precondition(!(referenceFlip || referenceRotate) || reference == .clean,
                     "AdapterTask: referenceFlip and referenceRotate pose the clean reference (reference = .clean)")
        self.referenceFlip = referenceFlip
        self.referenceRotate = referenceRotate
        precondition(!referenceAttention || reference == .clean, "AdapterTask: reference attention reads the clean reference (reference = .clean)")
        precondition(referenceTimestep == nil || referenceAttention, "AdapterTask: referenceTimestep needs reference attention")
        self.referenceAttention = referenceAttention
        self.referenceTimestep = referenceTimestep
        precondition(objectWeight >= 0, "AdapterTask: objectWeight \(objectWeight) must be >= 0")
        precondition(unetLearningRateScale >= 0, "AdapterTask: unetLearningRateScale \(unetLearningRateScale) must be >= 0")
        self.vae = vae; self.snrGamma = snrGamma; self.objectWeight = objectWeight
        self.unetLearningRateScale = unetLearningRateScale
        precondition(attributeWeight >= 0 && (attributeWeight == 0 || trainEncoder),
                     "AdapterTask: attributeWeight \(attributeWeight) needs >= 0 and a trained reference encoder")
        self.attributeWeight = attributeWeight
        attributeHeads = attributeWeight > 0 ? ReferenceAttributeHeads(width: imageEncoder.tokenWidth, key: RNGKey(seed: seed).fold(in: "attribute_heads")) : nil
        vae?.setRequiresGrad(false)
        vae?.train(false)
        self.unet = unet; self.resampler = resampler; self.textEncoder = textEncoder; self.imageEncoder = imageEncoder
        self.trainEncoder = trainEncoder; self.reference = reference; self.tokenizer = tokenizer; self.schedule = schedule
        self.data = data; self.seed = seed; self.batchSize = batchSize
        self.dropText = dropText; self.dropImage = dropImage; self.dropBoth = dropBoth
        textEncoder.setRequiresGrad(false)
        textEncoder.train(false)
        imageEncoder.setRequiresGrad(trainEncoder)
        imageEncoder.train(false)
        let adapter = adapterParameters(unet: unet, resampler: resampler)
        var tuned: [(String, Parameter)] = []
        if unetLearningRateScale > 0 {
            let ip = Set(unet.imageProjectionParameters().map(\.0))
            tuned = unet.namedParameters().filter { !ip.contains($0.0) }
            for (_, p) in tuned { p.requiresGrad = true }
        }
        params = adapter + tuned + (trainEncoder ? imageEncoder.namedParameters().map { ("image_encoder." + $0.0, $0.1) } : [])
            + (attributeHeads?.namedParameters().map { (ReferenceAttributeHeads.prefix + $0.0, $0.1) } ?? [])
        learningRateScales = Dictionary(uniqueKeysWithValues: tuned.filter { k in !fullRateUNetPrefixes.contains(where: k.0.hasPrefix) }
            .map { ($0.0, unetLearningRateScale) })
    }

    public var trainable: [(String, Parameter)] { params }

    public func loss(step: Int) throws -> Variable {
        unet.train(true)
        resampler.train(true)
        if trainEncoder { imageEncoder.train(true) }
        let b = try WorldData.batch(seed: seed, step: step, size: batchSize, config: data)
        let u = dropoutDraws(seed: seed, step: step, count: batchSize)
        var refs = reference == .same ? b.images
            : try WorldData.references(b.subjects, resolution: data.resolution, supersample: data.supersample,
                                       poses: referencePoses(targets: b.poses))
        let per = refs.count / batchSize
        let undropped = refs
        var droppedImage = [Bool](repeating: false, count: batchSize)
        var prompts = b.prompts
        for i in 0..<batchSize {
            let d = AdapterTask.drops(u: u[i], text: dropText, image: dropImage, both: dropBoth)
            if d.text { prompts[i] = WorldText.nullPrompt }
            if d.image { for j in (i * per)..<((i + 1) * per) { refs.scalars[j] = 0 }; droppedImage[i] = true }
        }
        let text = withNoGrad { textEncoder.forward(prompts.map(tokenizer.encode)).states.value }
        let feats = trainEncoder ? imageEncoder.tokens(Variable(refs)) : Variable(withNoGrad { imageEncoder.tokens(Variable(refs)).value })
        let tokens = resampler.forward(feats)
        let x0 = AutoencoderKL.diffusionSpace(b.images, vae: vae)
        let d = DenoisingDraw(x0: x0, schedule: schedule, seed: seed, step: step)
        let eps: Variable
        if referenceAttention {
            let r0 = AutoencoderKL.diffusionSpace(undropped, vae: vae)
            let rn = Init.normal(r0.shape, key: RNGKey(seed: seed).fold(in: "reference-noise").fold(in: UInt64(step)))
            let tr = d.timesteps.map { ReferenceSetMask.readTimestep($0, cap: referenceTimestep) }
            let rt = schedule.addNoise(r0, noise: rn, timesteps: tr)
            let s = data.resolution
            var fg = ReferenceAttention.foreground(of: undropped).scalars
            for i in 0..<batchSize where droppedImage[i] {
                for j in (i * s * s)..<((i + 1) * s * s) { fg[j] = 0 }              // dropped image: no reference keys
            }
            let out = unet.forward(Variable(ReferenceSetMask.pairs(references: rt, images: d.noisy)),
                                   timesteps: ReferenceSetMask.setTimesteps(references: tr, images: d.timesteps), text: ReferenceSetMask.twice(Variable(text)),
                                   imageTokens: ReferenceSetMask.twice(tokens), ipScale: 1, setSize: 2,
                                   setMask: ReferenceSetMask(foreground: Tensor(shape: [batchSize, s, s], scalars: fg)))
            eps = ReferenceSetMask.imageRows(out)
        } else {
            eps = unet.forward(Variable(d.noisy), timesteps: d.timesteps, text: Variable(text), imageTokens: tokens, ipScale: 1)
        }
        let w = DenoisingDraw.objectWeights(coverage: b.coverage, batch: batchSize, side: data.resolution, grid: x0.shape[2],
                                            objectWeight: objectWeight)
        let denoising = d.loss(eps, schedule: schedule, snrGamma: snrGamma, cellWeights: w)
        guard let heads = attributeHeads else { return denoising }
        // The attribute loss reads every row's reference, also where the diffusion loss dropped it.
        let seen = droppedImage.contains(true) ? imageEncoder.tokens(Variable(undropped)) : feats
        return denoising + heads.loss(tokens: seen, subjects: b.subjects) * attributeWeight
    }

    /// The clean references' poses for these targets: canonical, taking the target's mirroring (`referenceFlip`) and
    /// in-plane rotation (`referenceRotate`); nil when neither applies.
    func referencePoses(targets: [Pose]) -> [Pose]? {
        guard referenceFlip || referenceRotate else { return nil }
        return targets.map { t in
            var p = Pose.canonical
            if referenceFlip { p.flipped = t.flipped }
            if referenceRotate { p.rotationDegrees = t.rotationDegrees }
            return p
        }
    }

    /// Which conditions a row drops for its draw u ~ U(0, 1): [0, text) text only,
    /// [text, text + image) image only, [text + image, text + image + both) both, else none.
    public static func drops(u: Float, text: Float, image: Float, both: Float) -> (text: Bool, image: Bool) {
        if u < text { return (true, false) }
        if u < text + image { return (false, true) }
        if u < text + image + both { return (true, true) }
        return (false, false)
    }
}
