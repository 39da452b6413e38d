import Foundation

/// Everything the bench measured in one run, as written to `artifacts/bench/results.json` and read by
/// the report. Raw per-subject numbers only: means, bootstrap intervals and Avg are computed by the
/// report (`BenchStatistics`), so the JSON stays the single source of truth. Cosines are in [-1, 1].
public struct BenchResults: Codable, Sendable, Equatable {
    public var run: String
    /// The bench's config section and the run seed, as text (shown in the report's header).
    public var config: [String: String]
    public var protocolInfo: ProtocolInfo
    /// One entry per evaluated model (the base model first), per reference setting.
    public var models: [ModelResult]
    public var winRates: [WinRate]
    public var colourShift: [ColourShift]
    /// DCO reward guidance sweep (w_rg), one point per (model, w_rg).
    public var frontier: [FrontierPoint]
    /// PatchDPO Table 1 rows, from ssl-finetune-vit's patch-matching.json.
    public var patchMatching: [PatchMatchingRow]
    /// Patch-quality AUROC against injected defects, from patch-quality.
    public var auroc: [AUROCRow]
    /// Sample grids and heatmaps (PNG files, paths relative to the run directory).
    public var figures: [Figure]
    /// Stage wall times from the manifest.
    public var stageTimes: [StageTime]
    /// `make bench` figures (perf-bench JSON lines), when a file was given.
    public var performance: [PerfEntry]
    /// The bench's own time per row (a model, a frontier point, the references), split into sampling, judging and
    /// bookkeeping (issue 22 item 4); nil in results written before it existed.
    public var benchCost: [BenchCost]?

    public init(run: String, config: [String: String], protocolInfo: ProtocolInfo, models: [ModelResult] = [],
                winRates: [WinRate] = [], colourShift: [ColourShift] = [], frontier: [FrontierPoint] = [],
                patchMatching: [PatchMatchingRow] = [], auroc: [AUROCRow] = [], figures: [Figure] = [],
                stageTimes: [StageTime] = [], performance: [PerfEntry] = []) {
        self.run = run; self.config = config; self.protocolInfo = protocolInfo; self.models = models
        self.winRates = winRates; self.colourShift = colourShift; self.frontier = frontier
        self.patchMatching = patchMatching; self.auroc = auroc; self.figures = figures
        self.stageTimes = stageTimes; self.performance = performance
    }
}

/// How the images were made and judged.
public struct ProtocolInfo: Codable, Sendable, Equatable {
    /// "world" (the world's test subjects), "world (validation split, from subject 16 ...)" for a tuning
    /// bench, or the path of a real DreamBench-layout folder.
    public var dataset: String
    public var subjects: Int
    public var promptsPerSubject: Int
    public var imagesPerPrompt: Int
    public var resolution: Int
    public var sampler: String          // e.g. "DDIM 25 steps, eta 0, CFG 5.0"
    public var judges: [JudgeInfo]
    public init(dataset: String, subjects: Int, promptsPerSubject: Int, imagesPerPrompt: Int, resolution: Int,
                sampler: String, judges: [JudgeInfo]) {
        self.dataset = dataset; self.subjects = subjects; self.promptsPerSubject = promptsPerSubject
        self.imagesPerPrompt = imagesPerPrompt; self.resolution = resolution; self.sampler = sampler; self.judges = judges
    }
}

/// A judge model: its role ("dino" or "clip"), weights file and SHA-256, and its record's metrics.
public struct JudgeInfo: Codable, Sendable, Equatable {
    public var role: String
    public var weights: String
    public var sha256: String
    public var metrics: [String: Double]
    public init(role: String, weights: String, sha256: String, metrics: [String: Double]) {
        self.role = role; self.weights = weights; self.sha256 = sha256; self.metrics = metrics
    }
}

/// DreamBench numbers of one model in one reference setting, per subject (the report averages over
/// subjects, unweighted, and bootstraps over subjects).
public struct ModelResult: Codable, Sendable, Equatable {
    /// Display name, unique per (loss, vit, seed): "original", "dm", "diffusion-dpo", "patchdpo (original ViT)",
    /// "patchdpo (finetuned ViT)", ... The report groups rows that differ only in `trainSeed`.
    public var name: String
    /// dpo-train loss (nil for the base model), the ViT its quality maps came from, its training seed.
    public var loss: String?
    public var vit: String?
    public var trainSeed: Int?
    /// "all-references" (every reference image of the subject) or "one-reference" (Kosmos-G setting).
    public var setting: String
    public var perSubject: [SubjectScores]
    public init(name: String, loss: String?, vit: String?, trainSeed: Int?, setting: String, perSubject: [SubjectScores]) {
        self.name = name; self.loss = loss; self.vit = vit; self.trainSeed = trainSeed; self.setting = setting
        self.perSubject = perSubject
    }
}

/// Mean judge cosines of one subject's images: DINO and CLIP-I over all (generated, reference) pairs,
/// CLIP-T over (generated, its prompt).
public struct SubjectScores: Codable, Sendable, Equatable {
    public var subject: String
    public var dino: Double
    public var clipI: Double
    public var clipT: Double
    public var images: Int
    /// Shares of the subject's judged images with the reference's identity (category, main colour, body
    /// pattern), its detail (decal glyph and colour), and the prompted scene; nil when none was judged.
    public var identity: Double?
    public var detail: Double?
    public var scene: Double?
    public init(subject: String, dino: Double, clipI: Double, clipT: Double, images: Int,
                identity: Double? = nil, detail: Double? = nil, scene: Double? = nil) {
        self.subject = subject; self.dino = dino; self.clipI = clipI; self.clipT = clipT; self.images = images
        self.identity = identity; self.detail = detail; self.scene = scene
    }
}

/// HG-DPO-style win rate of `model` over `baseline`, per prompt, under one scorer (higher score wins;
/// |difference| <= tie tolerance is a tie). prompts = wins + ties + losses.
public struct WinRate: Codable, Sendable, Equatable {
    public var model: String
    public var baseline: String
    public var scorer: String
    public var wins: Int
    public var ties: Int
    public var losses: Int
    public var prompts: Int { wins + ties + losses }
    public init(model: String, baseline: String, scorer: String, wins: Int, ties: Int, losses: Int) {
        self.model = model; self.baseline = baseline; self.scorer = scorer; self.wins = wins; self.ties = ties; self.losses = losses
    }
}

/// Mean hue, saturation and value of a model's images against the baseline's, as percentage changes
/// (METHODS 8): 100 * (model - baseline) / baseline, over the foreground-independent whole image.
public struct ColourShift: Codable, Sendable, Equatable {
    public var model: String
    public var baseline: String
    public var huePct: Double
    public var saturationPct: Double
    public var valuePct: Double
    public var images: Int
    public init(model: String, baseline: String, huePct: Double, saturationPct: Double, valuePct: Double, images: Int) {
        self.model = model; self.baseline = baseline; self.huePct = huePct; self.saturationPct = saturationPct
        self.valuePct = valuePct; self.images = images
    }
}

/// One point of the DCO reward-guidance frontier: fidelity (DINO, CLIP-I) against text alignment (CLIP-T).
public struct FrontierPoint: Codable, Sendable, Equatable {
    public var model: String
    public var wRG: Double
    public var perSubject: [SubjectScores]
    public init(model: String, wRG: Double, perSubject: [SubjectScores]) {
        self.model = model; self.wRG = wRG; self.perSubject = perSubject
    }
}

/// PatchDPO Table 1: patch-matching score (percent of cells matched exactly) of one block, before and
/// after SSL finetuning, on one data source ("world" or a real HPatches folder).
public struct PatchMatchingRow: Codable, Sendable, Equatable {
    public var source: String
    public var block: Int
    public var beforePct: Double
    public var afterPct: Double
    public var cells: Int
    public init(source: String, block: Int, beforePct: Double, afterPct: Double, cells: Int) {
        self.source = source; self.block = block; self.beforePct = beforePct; self.afterPct = afterPct; self.cells = cells
    }
}

/// Patch-quality AUROC against injected defects for one ViT ("original" or "finetuned", or "<vit>-aligned" for the
/// aligned quality), over all defects (`defect` nil) or one defect kind; `images` is nil for a kind (its share of
/// the samples).
public struct AUROCRow: Codable, Sendable, Equatable {
    public var vit: String
    public var block: Int
    public var auroc: Double
    public var patches: Int
    public var images: Int?
    public var defect: String?
    /// Defective patches among `patches` (nil in results written before it was recorded).
    public var positives: Int?
    /// Per-kind rows: whether the kind only moves or removes content (World `Defect.keepsReferenceContent`),
    /// so that a max over reference patches cannot see it.
    public var keepsReferenceContent: Bool?
    /// The 95% bootstrap interval of `auroc` over the samples (nil in older results).
    public var low: Double?
    public var high: Double?
    public init(vit: String, block: Int, auroc: Double, patches: Int, images: Int?, defect: String? = nil,
                positives: Int? = nil, keepsReferenceContent: Bool? = nil, low: Double? = nil, high: Double? = nil) {
        self.vit = vit; self.block = block; self.auroc = auroc; self.patches = patches; self.images = images; self.defect = defect
        self.positives = positives; self.keepsReferenceContent = keepsReferenceContent; self.low = low; self.high = high
    }

    /// Whether the row is patch-quality's aligned quality (`<vit>-aligned`, `aligned = true`) rather than the
    /// paper's max over reference patches.
    public var isAligned: Bool { vit.hasSuffix("-aligned") }
}

/// A PNG figure of the run (sample grid, heatmap sheet); `path` is relative to the run directory.
public struct Figure: Codable, Sendable, Equatable {
    public var section: String          // "samples", "heatmaps", "frontier", ...
    public var title: String
    public var path: String
    public var caption: String
    public init(section: String, title: String, path: String, caption: String) {
        self.section = section; self.title = title; self.path = path; self.caption = caption
    }
}

/// The bench's time on one row's items (one item per subject), summed over them: the generator calls (sampling, an adapter
/// switch included), the judges' passes (judging), and the rest of the items' time (bookkeeping: references, PNG encoding,
/// writes, records). Wall times on a shared machine: the report's, never a result's.
public struct BenchCost: Codable, Sendable, Equatable {
    /// The item prefix: a model's slug, `<slug>-all`, a frontier point, or `refs`.
    public var row: String
    public var items: Int
    public var samplingSeconds: Double
    public var judgingSeconds: Double
    public var bookkeepingSeconds: Double
    public init(row: String, items: Int, samplingSeconds: Double, judgingSeconds: Double, bookkeepingSeconds: Double) {
        self.row = row; self.items = items; self.samplingSeconds = samplingSeconds; self.judgingSeconds = judgingSeconds
        self.bookkeepingSeconds = bookkeepingSeconds
    }
    public var totalSeconds: Double { samplingSeconds + judgingSeconds + bookkeepingSeconds }
}

/// Wall time of a stage's last finished run, from the manifest.
public struct StageTime: Codable, Sendable, Equatable {
    public var stage: String
    public var seconds: Double
    public var status: String
    public init(stage: String, seconds: Double, status: String) {
        self.stage = stage; self.seconds = seconds; self.status = status
    }
}

/// One `make bench` figure: a perf-bench JSON line flattened to (bench, label, value, unit).
public struct PerfEntry: Codable, Sendable, Equatable {
    public var bench: String
    public var label: String
    public var value: Double
    public var unit: String
    public init(bench: String, label: String, value: Double, unit: String) {
        self.bench = bench; self.label = label; self.value = value; self.unit = unit
    }
}
