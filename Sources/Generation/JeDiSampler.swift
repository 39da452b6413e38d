import Autograd
import Diffusion
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
    /// The batch of one (`sample(_:sets:seeds:...)`).
    public static func sample(_ g: Generator, set: JeDiSet, seed: UInt64, options: SamplingOptions = SamplingOptions(),
                              guidance: JeDiGuidance = JeDiGuidance()) throws(GenerationError) -> Tensor {
        try sample(g, sets: [set], seeds: [seed], options: options, guidance: guidance, observe: nil)[0]
    }

    /// `sample`, calling `observe(step, timestep, x)` with the set the U-Net reads at every step (after the
    /// replacement); tests check the replacement trick with it.
    static func sample(_ g: Generator, set: JeDiSet, seed: UInt64, options: SamplingOptions, guidance: JeDiGuidance,
                       observe: ((Int, Int, Tensor) -> Void)?) throws(GenerationError) -> Tensor {
        try sample(g, sets: [set], seeds: [seed], options: options, guidance: guidance, observe: observe)[0]
    }

    /// Several sets of one shape (the same size M and the same number of references) sampled together: one U-Net
    /// pass per step for all of them (batch branches * B * M, each set's M members consecutive within a branch, as
    /// `setSize: M` couples them). Set i keeps its own random streams, keyed from `seeds[i]` as when sampled alone
    /// (x_T, the replacement noise q and the eta noise z), and every step is per row (the schedulers and the
    /// guidance are elementwise, the coupled attention stays within a set), so set i comes out as `sample(set:
    /// sets[i], seed: seeds[i])` does, up to float32 summation order in the batched kernels. Returns one [M, 3, S, S]
    /// per set, in `sets`' order.
    public static func sample(_ g: Generator, sets: [JeDiSet], seeds: [UInt64], options: SamplingOptions = SamplingOptions(),
                              guidance: JeDiGuidance = JeDiGuidance()) throws(GenerationError) -> [Tensor] {
        try sample(g, sets: sets, seeds: seeds, options: options, guidance: guidance, observe: nil)
    }

    /// The batched sampler; `observe` sees the stacked sets [B * M, ...].
    static func sample(_ g: Generator, sets: [JeDiSet], seeds: [UInt64], options: SamplingOptions, guidance: JeDiGuidance,
                       observe: ((Int, Int, Tensor) -> Void)?) throws(GenerationError) -> [Tensor] {
        try validate(g, sets: sets, seeds: seeds, options: options, guidance: guidance)
        return try GEMMPrecision.with(options.precision) { () throws(GenerationError) -> [Tensor] in
            let m = sets[0].size, k = sets[0].knownCount, rows = sets.count * m
            let known = Array(sets.map(\.known).joined())
            let shape = g.sampleShape
            let x0 = stack(sets.map { stack([g.diffusionSpace($0.references), Tensor(zeros: [m - k] + shape)]) })
            let text = g.textStates(sets.flatMap { $0.referencePrompts + $0.prompts })
            let nullText = g.textStates(Array(repeating: WorldText.nullPrompt, count: rows))
            var scheduler = Sampler.scheduler(options, for: g)
            let roots = seeds.map { RNGKey(seed: $0).fold(in: "jedi") }
            // Set i's [M, ...] draw from its own root, the sets stacked.
            func normal(_ key: (RNGKey) -> RNGKey) -> Tensor { stack(roots.map { Init.normal([m] + shape, key: key($0)) }) }
            var x = normal { $0.fold(in: "x_T") }
            for (i, t) in scheduler.timesteps(steps: options.steps).enumerated() {
                let z = normal { $0.fold(in: "q").fold(in: UInt64(i)) }
                x = replaceKnown(x, with: g.schedule.addNoise(x0, noise: z, timesteps: Array(repeating: t, count: rows)), known: known)
                observe?(i, t, x)
                let p = branchPredictions(g, x, setSize: m, timestep: t, clean: x0, known: known, text: text, nullText: nullText,
                                          guidance: guidance)
                let eps = guidance.combine(full: p.full, partial: p.partial, null: p.null, scale: options.guidanceScale)
                let noise = options.eta > 0 ? normal { $0.fold(in: "z").fold(in: UInt64(i)) } : nil
                x = scheduler.step(epsilon: eps, timestep: t, sample: x, steps: options.steps, eta: options.eta, noise: noise)
            }
            let out = g.imageSpace(replaceKnown(x, with: x0, known: known))
            let per = out.count / sets.count
            return (0..<sets.count).map {
                Tensor(shape: [m] + Array(out.shape.dropFirst()), scalars: Array(out.scalars[(per * $0)..<(per * ($0 + 1))]))
            }
        }
    }

    /// The options, the guidance and the generator; then the batch: at least one set, one seed each, every set valid
    /// and of set 0's shape (size and number of references).
    static func validate(_ g: Generator, sets: [JeDiSet], seeds: [UInt64], options: SamplingOptions,
                         guidance: JeDiGuidance) throws(GenerationError) {
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
        guard !sets.isEmpty, seeds.count == sets.count else {
            throw .mismatch(field: sets.isEmpty ? "sets" : "seeds",
                            reason: "\(seeds.count) seeds for \(sets.count) sets; give one set or more, one seed each")
        }
        for (i, s) in sets.enumerated() {
            try validate(g, set: s)
            guard s.size == sets[0].size, s.knownCount == sets[0].knownCount else {
                throw .mismatch(field: "sets", reason: "set \(i) has \(s.knownCount) references of \(s.size) members, set 0 "
                                + "\(sets[0].knownCount) of \(sets[0].size); one batch samples sets of one size and known pattern")
            }
        }
    }

    /// One set: references and prompts, the references' shape.
    static func validate(_ g: Generator, set: JeDiSet) throws(GenerationError) {
        guard set.knownCount >= 1, !set.prompts.isEmpty else {
            throw .mismatch(field: "set", reason: "\(set.knownCount) references and \(set.prompts.count) prompts; give at least one of each")
        }
        let want = [set.knownCount, 3, g.resolution, g.resolution]
        guard set.references.shape == want else {
            throw .mismatch(field: "references", reason: "shape \(set.references.shape), want \(want) (one per reference prompt)")
        }
    }

    /// x with the rows where `known` taken from `source` (both [N, ...]).
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

    /// eps of each branch for the sets x [B * M, c, H, W] (M = `setSize` consecutive rows a set) at timestep t, from
    /// one batched pass with set size M.
    static func branchPredictions(_ g: Generator, _ x: Tensor, setSize m: Int, timestep t: Int, clean: Tensor, known: [Bool],
                                  text: Tensor, nullText: Tensor, guidance: JeDiGuidance) -> (full: Tensor, partial: Tensor?, null: Tensor) {
        let (input, texts) = branchInputs(x, clean: clean, known: known, text: text, nullText: nullText, guidance: guidance)
        let eps = withNoGrad {
            g.unet.forward(Variable(input), timesteps: Array(repeating: t, count: input.shape[0]), text: Variable(texts),
                           imageTokens: nil, ipScale: 0, setSize: m)
        }.value
        let part = { (b: Int) in Tensor(shape: x.shape, scalars: Array(eps.scalars[(b * x.count)..<((b + 1) * x.count)])) }
        return guidance.branches == 2 ? (part(0), nil, part(1)) : (part(0), part(1), part(2))
    }
}
