import Foundation

/// Builders of the report's tables, in the papers' shapes (docs/REPORT.md says what each shows).
public enum PaperTables {
    /// PatchDPO Table 1: patch-matching score (% of cells matched exactly) per block, before and after
    /// SSL finetuning, one group of rows per data source; blocks are columns as in the paper.
    public static func patchMatching(_ rows: [PatchMatchingRow]) -> Table {
        let blocks = Array(Set(rows.map(\.block))).sorted()
        var sources: [String] = []
        for r in rows where !sources.contains(r.source) { sources.append(r.source) }
        var out: [[Cell]] = []
        for s in sources {
            let byBlock = Dictionary(rows.filter { $0.source == s }.map { ($0.block, $0) }, uniquingKeysWith: { a, _ in a })
            func line(_ label: String, _ f: (PatchMatchingRow) -> Cell) -> [Cell] {
                [.text(s), .text(label)] + blocks.map { b in byBlock[b].map(f) ?? .number(nil, digits: 1) }
            }
            out.append(line("before SSL finetuning") { .number($0.beforePct, digits: 1) })
            out.append(line("after SSL finetuning") { .number($0.afterPct, digits: 1) })
            out.append(line("change (points)") { .number($0.afterPct - $0.beforePct, digits: 1) })
            out.append(line("cells") { .int($0.cells) })
        }
        return Table(id: "table1-patch-matching", title: "Table 1: patch-matching score (%) by ViT block",
                     columns: ["Source", "ViT"] + blocks.map { "Block \($0)" }, rows: out,
                     notes: ["Percent of patch cells of image 1 whose most similar cell in image k (k = 2..6) is the cell "
                             + "containing the homography-mapped centre (METHODS 4), pooled over pairs and sequences."])
    }

    /// PatchDPO Table 4: DINO, CLIP-I, CLIP-T and Avg per model and reference setting, unweighted means
    /// over subjects with bootstrap 95% intervals; one row per training seed plus a seed-mean row.
    public static func dreamBench(_ rows: [ModelSummary]) -> Table {
        let out: [[Cell]] = rows.map { r in
            let seed: Cell = r.isSeedMean ? .text("mean of \(r.seedCount)") : .text(r.trainSeed.map(String.init) ?? "-")
            return [.text(r.setting), .text(ModelSummaries.label(r.name, loss: r.loss)), seed, .int(r.dino.subjects), .int(r.dino.images),
                    .estimate(r.identity, digits: 3), .estimate(r.detail, digits: 3), .estimate(r.scene, digits: 3),
                    .estimate(r.dino, digits: 3), .estimate(r.clipI, digits: 3), .estimate(r.clipT, digits: 3),
                    .estimate(r.avg, digits: 3)]
        }
        return Table(id: "table4-dreambench", title: "Table 4: DreamBench protocol (identity, detail, scene, DINO, CLIP-I, CLIP-T, Avg)",
                     columns: ["Setting", "Method", "Seed", "Subjects", "Images", "Identity", "Detail", "Scene", "DINO", "CLIP-I", "CLIP-T", "Avg"],
                     rows: out,
                     notes: ["Identity = share of scene-prompt images whose category, main colour and body pattern the attribute judge "
                             + "reads as the reference subject's; Detail = same for the decal glyph and decal colour; Scene = share of "
                             + "images whose background is the prompted one; real-renders = the world's renders of each prompt (the upper bound).",
                             "Cosine similarities; final = unweighted mean over subjects; Avg = mean of DINO, CLIP-I, CLIP-T; "
                             + "[low, high] = percentile bootstrap 95% interval over subjects (\(BenchStatistics.defaultResamples) resamples, seeded)."])
    }

    /// HG-DPO-style win rates per prompt: wins, ties, losses and their denominators.
    public static func winRates(_ w: [WinRate]) -> Table {
        func pct(_ k: Int, _ n: Int) -> Cell { .number(n > 0 ? 100 * Double(k) / Double(n) : nil, digits: 1) }
        let out: [[Cell]] = w.map { r in
            [.text(ModelSummaries.label(r.model)), .text(r.baseline), .text(r.scorer), .int(r.wins), .int(r.ties), .int(r.losses), .int(r.prompts),
             pct(r.wins, r.prompts), pct(r.ties, r.prompts), pct(r.losses, r.prompts), pct(r.wins, r.wins + r.losses)]
        }
        return Table(id: "win-rates", title: "Win rates against the base model, per prompt",
                     columns: ["Model", "Baseline", "Scorer", "Wins", "Ties", "Losses", "Prompts",
                               "Win (%)", "Tie (%)", "Loss (%)", "Win of decided (%)"], rows: out,
                     notes: ["Win (%) = wins / prompts; Win of decided (%) = wins / (wins + losses); a tie is a score "
                             + "difference within the bench's tie tolerance."])
    }

    /// HSV colour shift of each model's images against the base model's, in percent.
    public static func colourShift(_ c: [ColourShift]) -> Table {
        Table(id: "colour-shift", title: "HSV colour shift against the base model (%)",
              columns: ["Model", "Baseline", "Images", "Hue (%)", "Saturation (%)", "Value (%)"],
              rows: c.map { [.text(ModelSummaries.label($0.model)), .text($0.baseline), .int($0.images), .number($0.huePct, digits: 2),
                             .number($0.saturationPct, digits: 2), .number($0.valuePct, digits: 2)] },
              notes: ["100 * (mean of the model's images - mean of the base model's) / base, per HSV channel (METHODS 8)."])
    }

    /// One frontier point summarised: DINO, CLIP-I, CLIP-T over subjects with intervals.
    public struct FrontierSummary: Sendable, Equatable {
        public var model: String
        public var wRG: Double
        public var dino: Estimate
        public var clipI: Estimate
        public var clipT: Estimate
    }

    public static func frontierSummaries(_ points: [FrontierPoint], seed: UInt64) -> [FrontierSummary] {
        var models: [String] = []
        for p in points where !models.contains(p.model) { models.append(p.model) }
        let sorted = points.sorted { a, b in
            a.model == b.model ? a.wRG < b.wRG : models.firstIndex(of: a.model)! < models.firstIndex(of: b.model)!
        }
        return sorted.map { p in
            let images = p.perSubject.map(\.images).reduce(0, +)
            func est(_ m: String, _ v: [Double]) -> Estimate {
                BenchStatistics.bootstrap(v, images: images, seed: BenchStatistics.seed(seed, "frontier|\(p.model)|\(p.wRG)|\(m)"))
            }
            return FrontierSummary(model: p.model, wRG: p.wRG, dino: est("dino", p.perSubject.map(\.dino)),
                                   clipI: est("clipI", p.perSubject.map(\.clipI)), clipT: est("clipT", p.perSubject.map(\.clipT)))
        }
    }

    /// The DCO reward-guidance frontier: fidelity (DINO, CLIP-I) and text alignment (CLIP-T) per w_rg.
    public static func frontier(_ f: [FrontierSummary]) -> Table {
        Table(id: "frontier", title: "Reward-guidance frontier (DCO): fidelity vs text alignment by w_rg",
              columns: ["Model", "w_rg", "Subjects", "Images", "DINO", "CLIP-I", "CLIP-T"],
              rows: f.map { [.text($0.model), .number($0.wRG, digits: 1), .int($0.dino.subjects), .int($0.dino.images),
                             .estimate($0.dino, digits: 3), .estimate($0.clipI, digits: 3), .estimate($0.clipT, digits: 3)] },
              notes: ["eps = eps_ref(null) + w_text (eps_ref(c) - eps_ref(null)) + w_rg (eps_theta(c) - eps_ref(c)) (METHODS 6); "
                      + "w_rg = 0 is the reference model, 1 the trained model."])
    }

    /// Patch-quality AUROC against injected defects, per ViT: all defects (the goal row), then per kind.
    public static func auroc(_ a: [AUROCRow], goal: Double = HeadlineGoals.aurocGoal) -> Table {
        Table(id: "auroc", title: "Patch-quality AUROC against injected defects",
              columns: ["ViT", "Block", "Defects", "Images", "Patches", "AUROC", "95% interval", "Goal"],
              rows: a.map { [.text($0.vit), .int($0.block), .text($0.defect ?? "all"), $0.images.map { .int($0) } ?? .text(""),
                             .int($0.patches), .number($0.auroc, digits: 3), .text(interval($0)),
                             .text(rowGoal($0, goal: goal))] },
              notes: ["Probability that a defective patch gets a lower quality than a clean one (ties count half); the interval "
                      + "resamples the images (percentile bootstrap), and a goal is met only when its lower end clears it.",
                      "Per-kind rows split the same samples. q_g is a max over reference patches, so a shifted decal, "
                      + "which still appears in the reference, is invisible to it by construction.",
                      "Rows <vit>-aligned (patch-quality `aligned = true`, beyond the paper): q_aligned compares each generated "
                      + "patch with the patch at its place in the expected image (the reference object warped onto the generated "
                      + "image), so moved and removed content counts too."]
                  + Set(a.filter { !$0.isAligned }.map(\.vit)).sorted().compactMap { vit in
                      referenceMatchingCeiling(a, vit: vit).map {
                          "Ceiling of any max-over-reference quality on this defect mix (\(vit) ViT's samples): \(Cell.format($0, 3)). "
                              + "It ranks every patch of the kinds that make new content (recolour, blur) below every clean patch and "
                              + "leaves the kinds that only move or remove content (shift, drop-stripe) at chance."
                      }
                  })
    }

    /// The goal cell of an AUROC row: the goal's status for the all-defects rows and for the kinds that make new
    /// content (issue 16: >= the goal on recolour, blur, ...); for a kind that only moves or removes content, the
    /// status on aligned rows and a dash on the paper's (no max over reference patches can see it).
    static func rowGoal(_ r: AUROCRow, goal: Double) -> String {
        guard r.defect != nil else { return goalStatus(r, goal: goal) }
        switch r.keepsReferenceContent {
        case false?: return goalStatus(r, goal: goal)
        case true?: return r.isAligned ? goalStatus(r, goal: goal) : "- (invisible to a max over the reference)"
        case nil: return ""
        }
    }

    /// "[0.831, 0.872]", or "" without an interval.
    static func interval(_ r: AUROCRow) -> String {
        guard let lo = r.low, let hi = r.high else { return "" }
        return "[\(Cell.format(lo, 3)), \(Cell.format(hi, 3))]"
    }

    /// "met (>= 0.9)" when the interval's lower end clears the goal, "met (point estimate only)" when only the
    /// estimate does (or there is no interval), else "not met (< 0.9)".
    static func goalStatus(_ r: AUROCRow, goal: Double) -> String {
        guard r.auroc >= goal else { return "not met (< \(goal))" }
        guard let lo = r.low, lo >= goal else { return "met (point estimate only)" }
        return "met (>= \(goal))"
    }

    /// The best AUROC a quality that is a max over reference patches can reach on `vit`'s defect mix:
    /// patches of kinds that make new content all ranked as defective, patches of kinds that keep the
    /// reference's content (`AUROCRow.keepsReferenceContent`) indistinguishable from clean ones (AUROC 1/2):
    /// (P_new + P_kept / 2) / (P_new + P_kept) over the per-kind positives. Nil unless every per-kind row
    /// of `vit` records its positives and its flag.
    public static func referenceMatchingCeiling(_ rows: [AUROCRow], vit: String) -> Double? {
        let kinds = rows.filter { $0.vit == vit && $0.defect != nil }
        guard !kinds.isEmpty else { return nil }
        var new = 0.0, kept = 0.0
        for r in kinds {
            guard let p = r.positives, let k = r.keepsReferenceContent else { return nil }
            if k { kept += Double(p) } else { new += Double(p) }
        }
        return new + kept > 0 ? (new + kept / 2) / (new + kept) : nil
    }

    /// `make bench` figures, as parsed by `PerfEntry.parse(jsonLines:)`.
    public static func performance(_ p: [PerfEntry]) -> Table {
        Table(id: "performance", title: "Performance (make bench)", columns: ["Bench", "Figure", "Value", "Unit"],
              rows: p.map { [.text($0.bench), .text($0.label), .number($0.value, digits: $0.value.magnitude >= 100 ? 1 : 3), .text($0.unit)] },
              notes: ["From perf-bench's JSON lines (runs/perf/perf-bench.jsonl after `make bench`); timings on a shared 2-core CPU."])
    }

    /// The bench's time per row and item (= subject), split (`BenchCost`), with the total over every row.
    public static func benchCost(_ rows: [BenchCost]) -> Table {
        func row(_ name: String, _ c: [BenchCost]) -> [Cell] {
            let n = c.map(\.items).reduce(0, +)
            let per = { (f: (BenchCost) -> Double) in n == 0 ? Double.nan : c.map(f).reduce(0, +) / Double(n) }
            return [.text(name), .number(Double(n), digits: 0), .number(per(\.samplingSeconds), digits: 2),
                    .number(per(\.judgingSeconds), digits: 2), .number(per(\.bookkeepingSeconds), digits: 2),
                    .number(c.map(\.totalSeconds).reduce(0, +) / 60, digits: 1)]
        }
        return Table(id: "bench-cost", title: "Bench cost per item", columns: ["Row", "Items", "Sampling s/item", "Judging s/item",
                                                                               "Bookkeeping s/item", "Total min"],
                     rows: rows.map { row($0.row, [$0]) } + (rows.count > 1 ? [row("all", rows)] : []),
                     notes: ["One item per subject and row. Sampling: the generator calls (an adapter switch included); judging: "
                             + "the judges' passes; bookkeeping: the rest of the item (references, PNG encoding, writes, its record). "
                             + "The results item and the stage's start-up are not counted. Wall times on a shared 2-core CPU."])
    }

    /// Wall time of each stage's last finished run.
    public static func stageTimes(_ s: [StageTime]) -> Table {
        Table(id: "stage-times", title: "Stage wall times", columns: ["Stage", "Status", "Seconds", "Minutes"],
              rows: s.map { [.text($0.stage), .text($0.status), .number($0.seconds, digits: 1), .number($0.seconds / 60, digits: 1)] },
              notes: ["Total: " + Cell.format(s.map(\.seconds).reduce(0, +) / 60, 1) + " min."])
    }
}
