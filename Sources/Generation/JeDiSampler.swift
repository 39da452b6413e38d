import Autograd
import Diffusion
import Imaging
import Models
import NN
import Random
import TensorCore
import World

/// A JeDi personalization request: K >= 1 reference images of one subject with their prompts, and N >= 1 prompts
/// to generate. The joint set is [references; targets] (the appendix: "x0 is the concatenation of all input images
/// and an all-zero image"), M = K + N members.
public struct JeDiSet: Sendable {
    /// [K, 3, S, S] in [-1, 1].
    public var references: Tensor
    /// One prompt per reference (what the reference shows, e.g. "a photo of a red mug").
    public var referencePrompts: [String]
    /// One prompt per image to generate.
    public var prompts: [String]

    public init(references: Tensor, referencePrompts: [String], prompts: [String]) {
        self.references = references; self.referencePrompts = referencePrompts; self.prompts = prompts
    }

    public var knownCount: Int { referencePrompts.count }
    public var size: Int { referencePrompts.count + prompts.count }
    /// known[m]: member m is a reference.
    public var known: [Bool] { Array(repeating: true, count: knownCount) + Array(repeating: false, count: prompts.count) }
}

/// JeDi sampling (Zeng et al. 2024, sec. 3.3, appendix "Personalization as inpainting", "Image guidance") with a
/// generator whose U-Net is a JeDi U-Net (`JeDiUNet`: 2c + 1 input channels, coupled self-attention). Per step t:
/// 1. replacement trick: the known members of x are replaced by the forward-diffused references,
///    x_t^known = sqrt(abar_t) x0 + sqrt(1 - abar_t) z, z fresh from the seed at every step (RePaint's q(x_t | x0));
/// 2. the branches of `JeDiGuidance` in ONE U-Net pass, each a whole set (coupled over its M members):
///    full = ([m, x_t, x0 (1 - m)], texts), null = ([1, x_t, 0], null texts) (the joint null), and for the flexible
///    strategies the partial branch ([1, x_t, 0], texts) (text first) or ([m, x_t, x0 (1 - m)], null texts) (image first);
/// 3. eps = the guidance combination, for every member;
/// 4. x <- scheduler step(eps) on the whole set (DDIM or DPM-Solver++ (2M), `options.scheduler`).
/// At the end the known members are the references exactly. Pixel space only for now (a latent JeDi generator
/// would need Generator to accept a U-Net reading 2c + 1 latent channels).
public enum JeDiSampler {
    /// The whole set [M, 3, S, S] in [-1, 1]: rows 0 ..< K are the references, rows K ..< M the generated images.
    /// `options` gives the scheduler, steps, eta, spacing and the guidance scale s; its IP-Adapter, reward and
    /// decoupled image-guidance fields must keep their defaults (JeDi has no image tokens: the ratio is in `guidance`).
    public static func sample(_ g: Generator, set: JeDiSet, seed: UInt64, options: SamplingOptions = SamplingOptions(),
                              guidance: JeDiGuidance = JeDiGuidance()) throws(GenerationError) -> Tensor {
        try sample(g, set: set, seed: seed, options: options, guidance: guidance, observe: nil)
    }

    /// `sample`, calling `observe(step, timestep, x)` with the set the U-Net reads at every step (after the
    /// replacement); tests check the replacement trick with it.
    static func sample(_ g: Generator, set: JeDiSet, seed: UInt64, options: SamplingOptions, guidance: JeDiGuidance,
                       observe: ((Int, Int, Tensor) -> Void)?) throws(GenerationError) -> Tensor {
        try validate(g, set: set, options: options, guidance: guidance)
        let known = set.known, m = set.size, k = set.knownCount
        let shape = g.sampleShape
        let x0 = stack([g.diffusionSpace(set.references), Tensor(zeros: [m - k] + shape)])
        let text = g.textStates(set.referencePrompts + set.prompts)
        let nullText = g.textStates(Array(repeating: WorldText.nullPrompt, count: m))
        var scheduler = Sampler.scheduler(options, for: g)
        let root = RNGKey(seed: seed).fold(in: "jedi")
        var x = Init.normal([m] + shape, key: root.fold(in: "x_T"))
        for (i, t) in scheduler.timesteps(steps: options.steps).enumerated() {
            let z = Init.normal([m] + shape, key: root.fold(in: "q").fold(in: UInt64(i)))
            x = replaceKnown(x, with: g.schedule.addNoise(x0, noise: z, timesteps: Array(repeating: t, count: m)), known: known)
            observe?(i, t, x)
            let p = branchPredictions(g, x, timestep: t, clean: x0, known: known, text: text, nullText: nullText, guidance: guidance)
            let eps = guidance.combine(full: p.full, partial: p.partial, null: p.null, scale: options.guidanceScale)
            let noise = options.eta > 0 ? Init.normal([m] + shape, key: root.fold(in: "z").fold(in: UInt64(i))) : nil
            x = scheduler.step(epsilon: eps, timestep: t, sample: x, steps: options.steps, eta: options.eta, noise: noise)
        }
        return g.imageSpace(replaceKnown(x, with: x0, known: known))
    }

    static func validate(_ g: Generator, set: JeDiSet, options: SamplingOptions, guidance: JeDiGuidance) throws(GenerationError) {
        try options.validate(trainSteps: g.schedule.trainSteps, hasReference: false)
        try guidance.validate()
        guard options.imageGuidanceScale == nil, options.ipScale == 1 else {
            throw .invalidOption(field: options.imageGuidanceScale != nil ? "imageGuidanceScale" : "ipScale",
                                 reason: "is for the IP-Adapter generator; JeDi's image guidance is JeDiGuidance (strategy and ratio)")
        }
        guard g.vae == nil, JeDiUNet.readsInpaintingInput(g.unet.config) else {
            throw .mismatch(field: "generator", reason: "U-Net reads \(g.unet.config.inChannels) channels"
                            + (g.vae == nil ? "" : " in latent space") + "; JeDi sampling needs a pixel-space JeDi U-Net reading "
                            + "2 x \(g.unet.config.outChannels) + 1 (JeDiUNet.fromBase)")
        }
        guard set.knownCount >= 1, !set.prompts.isEmpty else {
            throw .mismatch(field: "set", reason: "\(set.knownCount) references and \(set.prompts.count) prompts; give at least one of each")
        }
        let want = [set.knownCount, 3, g.resolution, g.resolution]
        guard set.references.shape == want else {
            throw .mismatch(field: "references", reason: "shape \(set.references.shape), want \(want) (one per reference prompt)")
        }
    }

    /// x with the rows where `known` taken from `source` (both [M, ...]).
    static func replaceKnown(_ x: Tensor, with source: Tensor, known: [Bool]) -> Tensor {
        precondition(x.shape == source.shape && known.count == x.shape[0], "JeDiSampler.replaceKnown: \(x.shape) vs \(source.shape)")
        let per = x.count / x.shape[0]
        var out = x
        for (row, isKnown) in known.enumerated() where isKnown {
            for j in (row * per)..<((row + 1) * per) { out.scalars[j] = source.scalars[j] }
        }
        return out
    }

    /// The U-Net inputs and texts of the guidance branches, in `JeDiGuidance`'s order (full, [partial], null), stacked:
    /// ([branches * M, 2c + 1, H, W], [branches * M, L, D]).
    static func branchInputs(_ x: Tensor, clean: Tensor, known: [Bool], text: Tensor, nullText: Tensor,
                             guidance: JeDiGuidance) -> (input: Tensor, text: Tensor) {
        let none = Array(repeating: false, count: known.count)
        let full = JeDiUNet.input(noisy: x, clean: clean, known: known)
        let nullImage = JeDiUNet.input(noisy: x, clean: clean, known: none)
        switch guidance.strategy {
        case .joint: return (stack([full, nullImage]), stack([text, nullText]))
        case .textFirst: return (stack([full, nullImage, nullImage]), stack([text, text, nullText]))
        case .imageFirst: return (stack([full, full, nullImage]), stack([text, nullText, nullText]))
        }
    }

    /// eps of each branch for the set x [M, c, H, W] at timestep t, from one batched pass with set size M.
    static func branchPredictions(_ g: Generator, _ x: Tensor, timestep t: Int, clean: Tensor, known: [Bool], text: Tensor,
                                  nullText: Tensor, guidance: JeDiGuidance) -> (full: Tensor, partial: Tensor?, null: Tensor) {
        let (input, texts) = branchInputs(x, clean: clean, known: known, text: text, nullText: nullText, guidance: guidance)
        let m = x.shape[0]
        let eps = withNoGrad {
            g.unet.forward(Variable(input), timesteps: Array(repeating: t, count: input.shape[0]), text: Variable(texts),
                           imageTokens: nil, ipScale: 0, setSize: m)
        }.value
        let part = { (b: Int) in Tensor(shape: x.shape, scalars: Array(eps.scalars[(b * x.count)..<((b + 1) * x.count)])) }
        return guidance.branches == 2 ? (part(0), nil, part(1)) : (part(0), part(1), part(2))
    }
}

extension Generator {
    /// JeDi personalization on 8-bit images: one joint set [references; prompts] per call (`JeDiSampler.sample`),
    /// the references resized to the model size. Returns the generated members only, in `prompts`' order.
    public func generateJeDi(references: [Image], referencePrompts: [String], prompts: [String], seed: UInt64,
                             options: SamplingOptions = SamplingOptions(), guidance: JeDiGuidance = JeDiGuidance())
        throws(GenerationError) -> [Image] {
        guard references.count == referencePrompts.count else {
            throw .mismatch(field: "referencePrompts", reason: "\(referencePrompts.count) prompts for \(references.count) references; give one each")
        }
        let set = JeDiSet(references: try Sampler.tensor(references, size: resolution), referencePrompts: referencePrompts, prompts: prompts)
        return Array(Sampler.images(try JeDiSampler.sample(self, set: set, seed: seed, options: options, guidance: guidance)).dropFirst(references.count))
    }
}
