import Autograd
import Diffusion
import Models
import NN
import Random
import TensorCore
import Text
import World

/// (e) JeDi (Zeng et al. 2024, sec. 3.2-3.3 and appendix; docs/JEDI.md): the joint-image U-Net (`JeDiUNet`: inpainting
/// input [m, x_t, x0 (1 - m)], self-attention coupled over each set) trained by denoising same-subject sets.
///
/// Step `step` (every draw a pure function of (seed, step), so a resumed run sees the batches an uninterrupted one would):
/// - the set size S for the whole batch from `setSizes` (the appendix draws 2-4 per batch);
/// - `batchSize` sets: a category and one of its subjects as `WorldData.plan` draws them, the subject's S renders in
///   distinct textured scenes and poses (`SameSubjectSet`, the S3 analogue) with their prompts; with probability
///   `cleanMemberFraction` member 0 is instead the subject's clean canonical render (the reference personalization
///   gives at test time, which the S3 sets never show) with a clean-background prompt (`JeDiSets`); or, with `stored`
///   sets (`pretrain jedi-sets`), S among the stored sizes and `batchSize` stored sets of that size drawn uniformly;
/// - ng_mask: each member known (m = 0, its clean image in the input) with probability 1/2 (the appendix's Bernoulli
///   bits), so a set with no known member (2^-S of them) trains the joint null of image guidance;
/// - one t per set, shared by its members (the set is one sample of the joint distribution), eps per member;
/// - the text of every member of a set dropped together with probability `textDropout` (the null text of CFG).
/// Loss: eq. 2 as the paper writes it, the noise-prediction error over every member of the set, known ones
/// included (their clean image is in the input; the paper's loss weights no member out), with min-SNR-gamma
/// weighting per set when `snrGamma` > 0. The text encoder is frozen; every U-Net weight trains.
public final class JeDiTask: PretrainTask {
    public let unet: UNet2DConditionModel
    public let textEncoder: TextEncoder
    public let tokenizer: WordTokenizer
    public let schedule: NoiseSchedule
    public let data: WorldDataConfig
    public let seed: UInt64
    /// Sets per step.
    public let batchSize: Int
    public let setSizes: [Int]
    public let textDropout: Float
    public let cleanMemberFraction: Float
    public let snrGamma: Float
    /// Sets written by `pretrain jedi-sets` (nil: drawn per step).
    public let stored: StoredJeDiSets?
    /// The sizes a batch draws from: `setSizes`, or those of them the stored sets hold.
    let drawnSizes: [Int]

    public init(unet: UNet2DConditionModel, textEncoder: TextEncoder, tokenizer: WordTokenizer = WorldText.tokenizer(),
                schedule: NoiseSchedule = NoiseSchedule(), data: WorldDataConfig, seed: UInt64, batchSize: Int,
                setSizes: [Int] = [2, 3, 4], textDropout: Float = 0.1, cleanMemberFraction: Float = 0.5, snrGamma: Float = 0,
                stored: StoredJeDiSets? = nil) {
        let c = unet.config.outChannels
        precondition(unet.config.inChannels == 2 * c + 1, "JeDiTask: the U-Net reads \(unet.config.inChannels) channels; a JeDi U-Net reads 2c + 1 (JeDiUNet.fromBase)")
        precondition(!setSizes.isEmpty && setSizes.allSatisfy(SameSubjectSet.sizes.contains), "JeDiTask: set sizes \(setSizes) must be in \(SameSubjectSet.sizes)")
        let drawn = stored.map { $0.sizes(among: setSizes) } ?? setSizes
        precondition(stored.map { s in s.resolution == data.resolution && !drawn.isEmpty } ?? true,
                     "JeDiTask: the stored sets (sizes \(stored?.sizes ?? []), \(stored?.resolution ?? 0) px) hold no set of sizes \(setSizes) at \(data.resolution) px")
        precondition(batchSize >= 1, "JeDiTask: batchSize \(batchSize)")
        self.unet = unet; self.textEncoder = textEncoder; self.tokenizer = tokenizer; self.schedule = schedule
        self.data = data; self.seed = seed; self.batchSize = batchSize; self.setSizes = setSizes
        self.textDropout = textDropout; self.cleanMemberFraction = cleanMemberFraction; self.snrGamma = snrGamma
        self.stored = stored; drawnSizes = drawn
        textEncoder.setRequiresGrad(false)
        textEncoder.train(false)
        // No image branch in JeDi: the reference enters through the input channels and the coupled attention.
        unet.setRequiresGrad(true)
        for (_, p) in unet.imageProjectionParameters() { p.requiresGrad = false }
    }

    public var trainable: [(String, Parameter)] { unet.namedParameters().filter { $0.1.requiresGrad } }

    /// The sets of step `step`: members [B * S, 3, R, R] in [-1, 1] set-major, their prompts, which are known, the
    /// set size and each set's subject.
    public func batch(step: Int) throws -> (images: Tensor, prompts: [String], known: [Bool], setSize: Int, subjects: [Subject]) {
        let key = RNGKey(seed: seed).fold(in: "jedi").fold(in: UInt64(step))
        let s = drawnSizes[min(drawnSizes.count - 1, Int(key.fold(in: "set-size").uniform(at: 0) * Float(drawnSizes.count)))]
        var scalars: [Float] = [], prompts: [String] = [], known: [Bool] = [], subjects: [Subject] = []
        for i in 0..<batchSize {
            let k = key.fold(in: UInt64(i))
            let members: (images: [Float], prompts: [String], subject: Subject)
            if let entries = stored?.bySize[s] {
                let e = entries[min(entries.count - 1, Int(k.fold(in: "stored").uniform(at: 0) * Float(entries.count)))]
                members = (e.images, e.prompts, e.subject)
            } else {
                let spec = JeDiSets.spec(k, size: s, data: data, cleanMemberFraction: cleanMemberFraction)
                let m = try JeDiSets.members(spec, resolution: data.resolution, supersample: data.supersample)
                members = (Array(m.map { $0.image.toCHW() }.joined()), m.map(\.prompt), spec.subject)
            }
            let dropText = k.uniform(at: 5) < textDropout
            scalars += members.images
            for j in 0..<s {
                prompts.append(dropText ? WorldText.nullPrompt : members.prompts[j])
                known.append(k.fold(in: "ng-mask").uniform(at: UInt64(j)) < 0.5)
            }
            subjects.append(members.subject)
        }
        let r = data.resolution
        return (Tensor(shape: [batchSize * s, 3, r, r], scalars: scalars), prompts, known, s, subjects)
    }

    public func loss(step: Int) throws -> Variable {
        unet.train(true)
        let b = try batch(step: step)
        let n = b.known.count, s = b.setSize
        let key = RNGKey(seed: seed).fold(in: "jedi-denoise").fold(in: UInt64(step))
        let perSet = (0..<batchSize).map { i in min(schedule.trainSteps - 1, Int(key.fold(in: "t").uniform(at: UInt64(i)) * Float(schedule.trainSteps))) }
        let timesteps = perSet.flatMap { Array(repeating: $0, count: s) }
        let noise = Init.normal(b.images.shape, key: key.fold(in: "eps"))
        let noisy = schedule.addNoise(b.images, noise: noise, timesteps: timesteps)
        let text = Variable(withNoGrad { textEncoder.forward(b.prompts.map(tokenizer.encode)).states.value })
        let input = JeDiUNet.input(noisy: noisy, clean: b.images, known: b.known)
        let eps = unet.forward(Variable(input), timesteps: timesteps, text: text, imageTokens: nil, ipScale: 0, setSize: s)
        let sq = (eps - Variable(noise)).squared().reshaped([n, noise.count / n]).mean(axes: [1])
        guard snrGamma > 0 else { return sq.mean() }
        let w = DenoisingDraw.minSNRWeights(timesteps, schedule: schedule, gamma: snrGamma)
        return (sq * Variable(Tensor(shape: [n], scalars: w))).mean()
    }
}
