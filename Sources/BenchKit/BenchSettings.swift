import Generation
import Report
import World

/// How the bench evaluates (the `[bench]` section as values; docs/BENCH.md).
public struct BenchSettings: Sendable {
    /// World subjects of `split` from `subjectOffset` on, or up to this many of a DreamBench folder's.
    public var subjects: Int
    public var split: Split
    public var subjectOffset: Int
    public var prompts: Int
    public var imagesPerPrompt: Int
    /// World reference renders per subject.
    public var references: Int
    /// Scheduler (DDIM or DPM-Solver++ (2M)), steps, guidance, eta, image cross-attention scale of every model.
    public var sampling: SamplingOptions
    /// HG-DPO adaptive normalisation of trained models against the base adapter's chain.
    public var adaptiveNorm: Bool
    /// DCO reward-guidance weights of the frontier ([] = none) and its model (`base` or a model name).
    public var frontier: [Double]
    public var frontierModel: String
    /// The dpo-train models to evaluate (names, slugs or losses); [] = all.
    public var models: [String]
    /// A DreamBench folder instead of the world ("" = the world).
    public var dreambenchDir: String
    /// perf-bench's JSON lines for the report ("" = none).
    public var perfJSON: String
    /// Also condition every model on all of a subject's references.
    public var conditionOnAll: Bool
    /// Score the world's real renders as the model `real-renders` (world subjects only).
    public var realRenders: Bool
    public var tieTolerance: Double
    /// Subjects and prompts per subject in each model's sample grid.
    public var gridSubjects: Int
    public var gridPrompts: Int
    /// Sampling batch (does not change images).
    public var batch: Int
    /// Write the report after results.json.
    public var report: Bool
    /// Reference attention of every row: "auto" (as the base adapter was trained), "off" or a mode (`ReferenceAttention`);
    /// an all-references row's images read the foreground keys of all of their references.
    public var referenceAttention = "auto"
    public var referenceBias: Float = 0
    /// Also evaluate JeDi (pretrain-jedi's joint-image U-Net) as the row `jedi` (`JeDiBench`).
    public var jedi = false
    /// Scheduler and steps of the JeDi rows (`JeDiBench.samples`); nil = `sampling`'s.
    public var jediScheduler: SchedulerKind? = nil
    public var jediSteps: Int? = nil

    /// `sampling` with the JeDi rows' scheduler and steps.
    public var jediSampling: SamplingOptions {
        var o = sampling
        if let k = jediScheduler { o.scheduler = k }
        if let n = jediSteps { o.steps = n }
        return o
    }

    public init(subjects: Int, split: Split, subjectOffset: Int, prompts: Int, imagesPerPrompt: Int, references: Int,
                sampling: SamplingOptions, adaptiveNorm: Bool, frontier: [Double], frontierModel: String, models: [String],
                dreambenchDir: String, perfJSON: String, conditionOnAll: Bool, realRenders: Bool, tieTolerance: Double,
                gridSubjects: Int, gridPrompts: Int, batch: Int, report: Bool) {
        self.subjects = subjects; self.split = split; self.subjectOffset = subjectOffset; self.prompts = prompts
        self.imagesPerPrompt = imagesPerPrompt; self.references = references; self.sampling = sampling
        self.adaptiveNorm = adaptiveNorm; self.frontier = frontier; self.frontierModel = frontierModel; self.models = models
        self.dreambenchDir = dreambenchDir; self.perfJSON = perfJSON; self.conditionOnAll = conditionOnAll
        self.realRenders = realRenders; self.tieTolerance = tieTolerance; self.gridSubjects = gridSubjects
        self.gridPrompts = gridPrompts; self.batch = batch; self.report = report
    }

    /// The protocol as results.json states it, for `subjects` at `resolution` with `judges`.
    /// The reference attention of every row of `base`'s models (`referenceAttention` resolved).
    public func referenceAttention(for base: Generator) -> ReferenceAttention? {
        ReferenceAttention.resolve(referenceAttention, for: base)
    }

    public func protocolInfo(subjects: [BenchSubject], resolution: Int, judges: [JudgeInfo],
                             referenceAttention mode: ReferenceAttention? = nil) -> ProtocolInfo {
        let o = sampling
        var sampler = "\(o.schedulerDescription), CFG \(o.guidanceScale), ip scale \(o.ipScale)"
        if o.precision != .fp32 { sampler += ", \(o.precision.rawValue.uppercased()) products" }
        if adaptiveNorm { sampler += ", HG-DPO adaptive normalisation" }
        if let mode { sampler += ", reference attention \(mode.rawValue)" + (referenceBias != 0 ? " (bias \(referenceBias))" : "") }
        if jediSampling.scheduler != o.scheduler || jediSampling.steps != o.steps { sampler += "; JeDi rows: \(jediSampling.schedulerDescription)" }
        sampler += conditionOnAll
            ? "; conditioned on all references in the all-references rows, on reference 0 in the one-reference rows"
            : "; conditioned on reference 0 in both settings"
        let world = split == .test && subjectOffset == 0
            ? "world" : "world (\(split.rawValue) split, from subject \(subjectOffset) of each category)"
        return ProtocolInfo(dataset: dreambenchDir.isEmpty ? world : dreambenchDir, subjects: subjects.count,
                            promptsPerSubject: subjects.map(\.prompts.count).max() ?? 0,
                            imagesPerPrompt: imagesPerPrompt, resolution: resolution, sampler: sampler, judges: judges)
    }
}
