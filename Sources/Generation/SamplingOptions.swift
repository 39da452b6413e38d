import Diffusion
import TensorCore

/// How to sample (METHODS.md 6). Defaults: DDIM 25 steps, eta 0, "trailing" spacing (offset 0), CFG scale 5,
/// ip scale 1, plain CFG.
public struct SamplingOptions: Sendable, Codable, Equatable {
    /// The scheduler: DDIM (default) or DPM-Solver++ (2M) (`Sampler.scheduler(_:for:)`).
    public var scheduler: SchedulerKind
    public var steps: Int
    public var guidanceScale: Float
    /// Image guidance s_I of decoupled guidance (text first, as InstructPix2Pix's two scales):
    /// eps_null + w (eps(T, no image) - eps_null) + s_I (eps(T, I) - eps(T, no image)), three U-Net
    /// branches a step; nil = plain CFG (the same as s_I = w, with two branches).
    public var imageGuidanceScale: Float?
    public var ipScale: Float
    /// DDIM's eta (0 = deterministic); DPM-Solver++ takes 0 only.
    public var eta: Float
    /// Timestep spacing of either scheduler (each places its steps by diffusers' formulas for that scheduler).
    public var spacing: DDIMScheduler.Spacing
    /// DCO reward guidance weight w_rg (needs a reference generator); nil = off.
    public var rewardScale: Float?
    /// HG-DPO latent adaptive normalisation against the reference chain (needs a reference generator).
    public var adaptiveNormalization: Bool
    /// Reference attention (`ReferenceAttention`): the U-Net's self-attention also reads the reference image; nil = off.
    public var referenceAttention: ReferenceAttention?
    /// Additive attention bias of the reference's foreground keys under reference attention (0 = weighted as own keys).
    public var referenceBias: Float
    /// The timestep the references are diffused to under reference attention: k = min(k, t), the reference rows read at
    /// that timestep (k = 0: the clean reference at every step, as ReferenceNet reads it); nil = what the generator's
    /// adapter was trained with (`Generator.trainedReferenceTimestep`), else each step's own t.
    public var referenceTimestep: Int?
    /// The arithmetic of the network's matrix products while sampling (`GEMMPrecision`: fp32, or bf16 on CPUs with
    /// AVX512-BF16); everything else stays FP32.
    public var precision: GEMMPrecision

    public init(steps: Int = 25, guidanceScale: Float = 5, ipScale: Float = 1, eta: Float = 0,
                spacing: DDIMScheduler.Spacing = .trailing, rewardScale: Float? = nil, adaptiveNormalization: Bool = false,
                imageGuidanceScale: Float? = nil, scheduler: SchedulerKind = .ddim, referenceAttention: ReferenceAttention? = nil,
                referenceBias: Float = 0, referenceTimestep: Int? = nil, precision: GEMMPrecision = .fp32) {
        self.steps = steps; self.guidanceScale = guidanceScale; self.ipScale = ipScale; self.eta = eta
        self.imageGuidanceScale = imageGuidanceScale
        self.spacing = spacing; self.rewardScale = rewardScale; self.adaptiveNormalization = adaptiveNormalization
        self.scheduler = scheduler
        self.referenceAttention = referenceAttention
        self.referenceBias = referenceBias
        self.referenceTimestep = referenceTimestep
        self.precision = precision
    }

    private enum CodingKeys: String, CodingKey {
        case scheduler, steps, guidanceScale, imageGuidanceScale, ipScale, eta, spacing, rewardScale, adaptiveNormalization, referenceAttention, referenceBias, referenceTimestep, precision
    }

    /// Options encoded before `scheduler` existed decode as DDIM, before `precision` as FP32.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        scheduler = try c.decodeIfPresent(SchedulerKind.self, forKey: .scheduler) ?? .ddim
        steps = try c.decode(Int.self, forKey: .steps)
        guidanceScale = try c.decode(Float.self, forKey: .guidanceScale)
        imageGuidanceScale = try c.decodeIfPresent(Float.self, forKey: .imageGuidanceScale)
        ipScale = try c.decode(Float.self, forKey: .ipScale)
        eta = try c.decode(Float.self, forKey: .eta)
        spacing = try c.decode(DDIMScheduler.Spacing.self, forKey: .spacing)
        rewardScale = try c.decodeIfPresent(Float.self, forKey: .rewardScale)
        adaptiveNormalization = try c.decode(Bool.self, forKey: .adaptiveNormalization)
        referenceAttention = try c.decodeIfPresent(ReferenceAttention.self, forKey: .referenceAttention)
        referenceBias = try c.decodeIfPresent(Float.self, forKey: .referenceBias) ?? 0
        referenceTimestep = try c.decodeIfPresent(Int.self, forKey: .referenceTimestep)
        precision = try c.decodeIfPresent(GEMMPrecision.self, forKey: .precision) ?? .fp32
    }

    /// Checks the options; names the field at fault.
    public func validate(trainSteps: Int, hasReference: Bool) throws(GenerationError) {
        guard steps >= 1 && steps <= trainSteps else {
            throw .invalidOption(field: "steps", reason: "\(steps) is outside 1...\(trainSteps)")
        }
        guard eta >= 0, guidanceScale.isFinite, ipScale.isFinite else {
            throw .invalidOption(field: "eta/guidanceScale/ipScale", reason: "eta must be >= 0 and scales finite")
        }
        if precision == .bf16 && !GEMMPrecision.bf16Available {
            throw .invalidOption(field: "precision", reason: "bf16 needs a CPU with AVX512-BF16, which this one lacks; use fp32")
        }
        if scheduler == .dpmpp2m {
            guard eta == 0 else {
                throw .invalidOption(field: "eta", reason: "\(eta) is DDIM-only; dpmpp-2m is deterministic (eta 0, or scheduler ddim)")
            }
            guard steps < trainSteps else {
                throw .invalidOption(field: "steps", reason: "\(steps): dpmpp-2m takes at most \(trainSteps - 1) steps (T - 1)")
            }
        }
        if (rewardScale != nil || adaptiveNormalization) && !hasReference {
            throw .invalidOption(field: rewardScale != nil ? "rewardScale" : "adaptiveNormalization",
                                 reason: "needs a reference generator (the model before finetuning)")
        }
        if let s = imageGuidanceScale {
            guard s.isFinite else { throw .invalidOption(field: "imageGuidanceScale", reason: "\(s) is not finite") }
            if rewardScale != nil || adaptiveNormalization {
                throw .invalidOption(field: "imageGuidanceScale",
                                     reason: "decoupled image guidance does not combine with reward guidance or adaptive normalisation; pick one")
            }
        }
        if referenceAttention != nil {
            guard referenceBias.isFinite else { throw .invalidOption(field: "referenceBias", reason: "\(referenceBias) is not finite") }
            if let k = referenceTimestep, !(0..<trainSteps).contains(k) {
                throw .invalidOption(field: "referenceTimestep", reason: "\(k) is outside 0..<\(trainSteps)")
            }
            if imageGuidanceScale != nil {
                throw .invalidOption(field: "referenceAttention", reason: "does not combine with decoupled image guidance; pick one")
            }
        }
        if rewardScale != nil && adaptiveNormalization {
            throw .invalidOption(field: "rewardScale", reason: "reward guidance and adaptive normalisation are exclusive; pick one")
        }
    }

    /// "DDIM 25 steps, eta 0.0" or "DPM-Solver++ (2M) 20 steps" (eta is DDIM's only): the head of a sampler's description.
    public var schedulerDescription: String {
        scheduler == .ddim ? "DDIM \(steps) steps, eta \(eta)" : "\(scheduler.displayName) \(steps) steps"
    }
}

/// The arithmetic of the network's matrix products while sampling, as a config or a command line names it
/// (`precision = "fp32" | "bf16"`): TensorCore's `GEMMPrecision`, named here so callers need not import TensorCore.
public typealias SamplingPrecision = GEMMPrecision

/// The sampling schedulers a config or a command line can name (`scheduler = "ddim" | "dpmpp-2m"`).
public enum SchedulerKind: String, Sendable, Codable, CaseIterable {
    /// DDIM (Song et al. 2021), Diffusion's `DDIMScheduler`; eta > 0 makes it stochastic.
    case ddim
    /// DPM-Solver++ (2M) (Lu et al. 2022), Diffusion's `DPMSolverMultistepScheduler`; deterministic.
    case dpmpp2m = "dpmpp-2m"

    /// The name in descriptions of a sampler ("DDIM 25 steps, ...").
    public var displayName: String {
        switch self {
        case .ddim: return "DDIM"
        case .dpmpp2m: return "DPM-Solver++ (2M)"
        }
    }
}
