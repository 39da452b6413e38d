import Diffusion
import Foundation
import Imaging
import Models
import NN
import Random
import TensorCore

/// The sampling loop, outside the scheduler (diffusers' split; DDIM or DPM-Solver++ (2M), `options.scheduler`): per step
/// 1. eps_c, eps_u = U-Net([x; x], t, [c; null]) in one batched pass;
/// 2. eps_hat = eps_u + w (eps_c - eps_u)                                 (CFG), or with reward guidance
///    eps_hat = eps_ref(null) + w (eps_ref(c) - eps_ref(null)) + w_rg (eps_theta(c) - eps_ref(c)),
///    or with decoupled image guidance (three branches in one pass)
///    eps_hat = eps_u + w (eps(T, no image) - eps_u) + s_I (eps_c - eps(T, no image));
/// 3. x <- scheduler step(eps_hat)                                         (DDIM's eta > 0 draws z per step and seed);
/// 4. with adaptive normalisation, the reference chain steps from the same noise, with its own copy of the
///    scheduler (a multistep solver's history is per chain), and each (sample, channel) plane of x is
///    renormalised to the reference chain's mean and std (HG-DPO 3.2);
/// 5. in latent space, the decoder turns the final latents into images.
/// With reference attention step 1 reads each row's references too: coupled as sets at every step, or, when they are
/// read at one timestep at every step, through their keys made once (`ReferenceKeys`, docs/REFERENCE_ATTENTION.md).
/// With `start` (SDEdit, diffusers' img2img `strength`) the chain begins from given images diffused to the timestep
/// of the schedule's first kept step, running only the last round(strength x steps) steps.
public enum Sampler {
    /// Images to start from and how much of the chain to run (SDEdit): 1 = all steps from the images diffused to
    /// the first timestep (nearly pure noise), 0 = none (the images back).
    public struct Start: Sendable {
        public var images: Tensor
        public var strength: Float
        public init(images: Tensor, strength: Float) { self.images = images; self.strength = strength }
    }

    /// Images [B, 3, S, S] in [-1, 1]. `references` [B * K, 3, S, S], K = `referencesPerRow` images per
    /// row, row-major (nil: text only; see `Generator.conditioning`); `seeds` one per row. With
    /// `options.referenceAttention` each generated image reads all K of its references' foreground keys;
    /// `referenceForeground` [B * K, S, S] says which reference pixels it attends to (nil: `ReferenceAttention.foreground`,
    /// the references' border-colour foreground).
    public static func sample(_ g: Generator, reference: Generator? = nil, prompts: [String], references: Tensor?,
                              referencesPerRow k: Int = 1, seeds: [UInt64],
                              options: SamplingOptions = SamplingOptions(), referenceForeground: Tensor? = nil,
                              start: Start? = nil) throws(GenerationError) -> Tensor {
        try options.validate(trainSteps: g.schedule.trainSteps, hasReference: reference != nil)
        return try GEMMPrecision.with(options.precision) { () throws(GenerationError) -> Tensor in
            try sampleValidated(g, reference: reference, prompts: prompts, references: references, referencesPerRow: k, seeds: seeds,
                                options: options, referenceForeground: referenceForeground, start: start)
        }
    }

    /// `sample` after the options' validation, in the options' precision.
    private static func sampleValidated(_ g: Generator, reference: Generator?, prompts: [String], references: Tensor?,
                                        referencesPerRow k: Int, seeds: [UInt64], options: SamplingOptions,
                                        referenceForeground: Tensor?, start: Start?) throws(GenerationError) -> Tensor {
        if let start {
            guard start.strength >= 0, start.strength <= 1 else {
                throw .invalidOption(field: "strength", reason: "\(start.strength) is outside [0, 1] (the share of the chain run from the start images)")
            }
            guard start.images.shape == [prompts.count, 3, g.resolution, g.resolution] else {
                throw .mismatch(field: "start images", reason: "shape \(start.images.shape), want [\(prompts.count), 3, \(g.resolution), \(g.resolution)]")
            }
        }
        guard prompts.count == seeds.count, !prompts.isEmpty else {
            throw .mismatch(field: "seeds", reason: "\(seeds.count) seeds for \(prompts.count) prompts; give one seed per prompt")
        }
        guard k >= 1 else { throw .mismatch(field: "referencesPerRow", reason: "is \(k); give at least one reference per row") }
        if let r = references, r.shape != [prompts.count * k, 3, g.resolution, g.resolution] {
            throw .mismatch(field: "references", reason: "shape \(r.shape), want [\(prompts.count * k), 3, \(g.resolution), \(g.resolution)] "
                            + "(\(k) per prompt)")
        }
        if options.referenceAttention != nil {
            guard let r = references else {
                throw .invalidOption(field: "referenceAttention", reason: "needs a reference image per prompt")
            }
            if let fg = referenceForeground, fg.shape != [r.shape[0], r.shape[2], r.shape[3]] {
                throw .mismatch(field: "referenceForeground", reason: "shape \(fg.shape), want [\(r.shape[0]), \(r.shape[2]), \(r.shape[3])]")
            }
        }
        var scheduler = Self.scheduler(options, for: g)
        var referenceScheduler = scheduler   // the reference chain's own solver state (adaptive normalisation)
        let c = g.conditioning(prompts: prompts, references: references, perRow: k)
        let cRef = reference.map { $0.conditioning(prompts: prompts, references: references, perRow: k) }
        let allSteps = scheduler.timesteps(steps: options.steps)
        let kept = start.map { Int(($0.strength * Float(options.steps)).rounded()) } ?? allSteps.count
        let timesteps = Array(allSteps.suffix(kept))
        var x = g.initialNoise(seeds: seeds)
        if let start {
            guard let t0 = timesteps.first else { return start.images }
            x = g.schedule.addNoise(g.diffusionSpace(start.images), noise: x, timesteps: Array(repeating: t0, count: seeds.count))
        }
        var xRef = x
        let cleanReferences = options.referenceAttention != nil ? references.map { g.diffusionSpace($0) } : nil
        let foreground = options.referenceAttention != nil ? (referenceForeground ?? references.map(ReferenceAttention.foreground)) : nil
        let w = options.guidanceScale
        let cap = options.referenceTimestep ?? g.trainedReferenceTimestep
        // Read at one timestep at every step (a reference timestep at or below every sampled one; 0 = the clean
        // reference), the references are diffused once (step 0's draw) and their self-attention keys made once per
        // network (`ReferenceKeys`, as ReferenceNet reads its reference); otherwise diffused and coupled at every step.
        let fixedRead = timesteps.first.map { ReferenceSetMask.readTimestep($0, cap: cap) }
            .flatMap { t0 in timesteps.allSatisfy { ReferenceSetMask.readTimestep($0, cap: cap) == t0 } ? t0 : nil }
        func diffusedReferences(step i: Int, to tRef: Int) -> Tensor? {
            cleanReferences.map {
                g.schedule.addNoise($0, noise: referenceNoise(seeds: seeds, step: i, like: $0), timesteps: Array(repeating: tRef, count: $0.shape[0]))
            }
        }
        let fixedReferences = fixedRead.flatMap { diffusedReferences(step: 0, to: $0) }
        var keys: [ObjectIdentifier: ReferenceKeys] = [:]
        for (i, t) in timesteps.enumerated() {
            let z = options.eta > 0 ? stepNoise(seeds: seeds, step: i, like: x) : nil
            // Reference attention: the references diffused to this step (one draw shared by every chain of the step).
            let tRef = ReferenceSetMask.readTimestep(t, cap: cap)
            let noisyReferences = fixedRead == nil ? diffusedReferences(step: i, to: tRef) : fixedReferences
            func pair(_ gen: Generator, _ x: Tensor, _ c: Conditioning) -> (cond: Tensor, uncond: Tensor) {
                guard let mode = options.referenceAttention, let fg = foreground else {
                    return gen.guidedPair(x, timestep: t, c, ipScale: options.ipScale)
                }
                guard let tFixed = fixedRead else {
                    return gen.referenceCoupledPair(x, reference: noisyReferences!, timestep: t, referenceTimestep: tRef, c, ipScale: options.ipScale,
                                                    mode: mode, foreground: fg, bias: options.referenceBias)
                }
                let id = ObjectIdentifier(gen)
                if keys[id] == nil {
                    keys[id] = gen.referenceKeys(noisyReferences!, referenceTimestep: tFixed, c, ipScale: options.ipScale, mode: mode,
                                                 foreground: fg, bias: options.referenceBias)
                }
                return gen.guidedPair(x, timestep: t, c, ipScale: options.ipScale, referenceKeys: keys[id])
            }
            if let ref = reference, let cr = cRef, let wrg = options.rewardScale {
                let r = pair(ref, x, cr)
                let theta = pair(g, x, c).cond
                let eps = Guidance.reward(referenceConditional: r.cond, referenceUnconditional: r.uncond,
                                          trainedConditional: theta, textScale: w, rewardScale: wrg)
                x = scheduler.step(epsilon: eps, timestep: t, sample: x, steps: options.steps, eta: options.eta, noise: z)
                continue
            }
            let eps: Tensor
            if let sI = options.imageGuidanceScale, c.image != nil {
                let p = g.guidedTriple(x, timestep: t, c, ipScale: options.ipScale)
                eps = Guidance.decoupled(conditional: p.cond, textOnly: p.textOnly, unconditional: p.uncond, textScale: w, imageScale: sI)
            } else {
                let p = pair(g, x, c)
                eps = Guidance.classifierFree(conditional: p.cond, unconditional: p.uncond, scale: w)
            }
            x = scheduler.step(epsilon: eps, timestep: t, sample: x, steps: options.steps, eta: options.eta, noise: z)
            if options.adaptiveNormalization, let ref = reference, let cr = cRef {
                let pr = pair(ref, xRef, cr)
                let er = Guidance.classifierFree(conditional: pr.cond, unconditional: pr.uncond, scale: w)
                xRef = referenceScheduler.step(epsilon: er, timestep: t, sample: xRef, steps: options.steps, eta: options.eta, noise: z)
                x = Guidance.adaptiveNormalize(x, toMatch: xRef)
            }
        }
        return g.imageSpace(x)
    }

    /// The scheduler `options` name, for `g`'s schedule. Latents are not bounded, so only pixel-space samples clip
    /// x0 to [-1, 1] (diffusers: SD's scheduler configs have clip_sample = false and thresholding = false), with
    /// either scheduler. DDIM ends at abar_0 (set_alpha_to_one = false, as SD's config), DPM-Solver++ at sigma 0
    /// (final_sigmas_type zero, diffusers' default).
    static func scheduler(_ options: SamplingOptions, for g: Generator) -> any SamplingScheduler {
        switch options.scheduler {
        case .ddim:
            return DDIMScheduler(schedule: g.schedule, clipSample: g.vae == nil, setAlphaToOne: false, spacing: options.spacing, stepsOffset: 0)
        case .dpmpp2m:
            return DPMSolverMultistepScheduler(schedule: g.schedule, clipSample: g.vae == nil, spacing: options.spacing, stepsOffset: 0)
        }
    }

    /// The eta > 0 noise of step `step`: row i from `RNGKey(seed: seeds[i])` folded with the step.
    static func stepNoise(seeds: [UInt64], step: Int, like x: Tensor, stream: String = "z") -> Tensor {
        let per = Array(x.shape.dropFirst())
        return stack(seeds.map { Init.normal([1] + per, key: RNGKey(seed: $0).fold(in: stream).fold(in: UInt64(step))) })
    }

    /// The noise diffusing the references [B * K, ...] at step `step`: reference j of row i from `RNGKey(seed: seeds[i])`
    /// folded with stream "reference-q" (j = 0; K = 1 is exactly that) or "reference-q<j>", then the step.
    static func referenceNoise(seeds: [UInt64], step: Int, like r: Tensor) -> Tensor {
        let k = r.shape[0] / seeds.count
        guard k > 1 else { return stepNoise(seeds: seeds, step: step, like: r, stream: "reference-q") }
        let per = Array(r.shape.dropFirst())
        return stack(seeds.flatMap { seed in
            (0..<k).map { j in Init.normal([1] + per, key: RNGKey(seed: seed).fold(in: j == 0 ? "reference-q" : "reference-q\(j)").fold(in: UInt64(step))) }
        })
    }

    /// 8-bit RGB images of a [B, 3, S, S] batch in [-1, 1].
    public static func images(_ x: Tensor) -> [Image] {
        precondition(x.rank == 4 && x.shape[1] == 3, "Sampler.images: want [B, 3, H, W], got \(x.shape)")
        let (b, h, w) = (x.shape[0], x.shape[2], x.shape[3])
        let per = 3 * h * w
        return (0..<b).map { i in
            try! Image(chw: Array(x.scalars[(i * per)..<((i + 1) * per)]), width: w, height: h, channels: 3)
        }
    }

    /// A [B, 3, S, S] tensor in [-1, 1] of RGB images (each must be S x S, 3 channels).
    public static func tensor(_ images: [Image], size: Int) throws(GenerationError) -> Tensor {
        var parts: [Float] = []
        for (i, im) in images.enumerated() {
            guard im.channels == 3 || im.channels == 4 else {
                throw .mismatch(field: "references[\(i)]", reason: "\(im.channels) channels; want RGB")
            }
            let rgb = im.channels == 3 ? im : try! Image(width: im.width, height: im.height, channels: 3,
                pixels: (0..<(im.width * im.height)).flatMap { Array(im.pixels[($0 * 4)..<($0 * 4 + 3)]) })
            let sized = (rgb.width == size && rgb.height == size) ? rgb : rgb.resizedArea(width: size, height: size)
            parts += sized.toCHW()
        }
        return Tensor(shape: [images.count, 3, size, size], scalars: parts)
    }
}

extension Generator {
    /// Samples and returns 8-bit images: `references` are RGB images (resized to the model size).
    public func generate(prompts: [String], references: [Image]?, seeds: [UInt64],
                         options: SamplingOptions = SamplingOptions(), reference: Generator? = nil) throws(GenerationError) -> [Image] {
        try generate(prompts: prompts, referenceSets: references.map { $0.map { [$0] } }, seeds: seeds, options: options,
                     reference: reference)
    }

    /// Images conditioned on several references per prompt (`referenceSets[i]` for prompt i; every set
    /// the same size K; their tokens are concatenated, see `Generator.conditioning`).
    public func generate(prompts: [String], referenceSets: [[Image]]?, seeds: [UInt64],
                         options: SamplingOptions = SamplingOptions(), reference: Generator? = nil) throws(GenerationError) -> [Image] {
        var k = 1
        if let sets = referenceSets {
            guard sets.count == prompts.count else {
                throw .mismatch(field: "references", reason: "\(sets.count) reference sets for \(prompts.count) prompts")
            }
            k = sets.first?.count ?? 0
            guard k >= 1, sets.allSatisfy({ $0.count == k }) else {
                throw .mismatch(field: "references", reason: "reference sets of sizes \(sets.map(\.count)); give every prompt the same number (>= 1)")
            }
        }
        let refs = try referenceSets.map { (s) throws(GenerationError) -> Tensor in try Sampler.tensor(s.flatMap { $0 }, size: resolution) }
        let x = try Sampler.sample(self, reference: reference, prompts: prompts, references: refs, referencesPerRow: k, seeds: seeds,
                                   options: options)
        return Sampler.images(x)
    }

    /// Writes images as PNGs into `directory` (created), atomically, named `names[i]`; returns the URLs.
    public static func writePNGs(_ images: [Image], to directory: URL, names: [String]) throws -> [URL] {
        precondition(images.count == names.count, "writePNGs: \(images.count) images, \(names.count) names")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return try zip(images, names).map { im, name in
            let url = directory.appendingPathComponent(name)
            try PNG.write(im, to: url.path)
            return url
        }
    }
}
