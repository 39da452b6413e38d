import Foundation

/// The reproduction's tables (issue 16 item 2): the paper's Tables 1 and 4 beside ours, and the paired
/// differences of PatchDPO against the original model, dm and diffusion-dpo on every metric.
public enum ReproductionTables {
    /// The metrics of the paired differences, with how to read each from a subject's scores.
    static let metrics: [(name: String, value: @Sendable (SubjectScores) -> Double?)] = [
        ("Identity", { $0.identity }), ("Detail", { $0.detail }), ("DINO", { $0.dino }),
        ("CLIP-I", { $0.clipI }), ("CLIP-T", { $0.clipT }),
    ]

    /// mean over the subjects both have of (model - base) for `value`, with its paired bootstrap 95% interval
    /// (subjects resampled; `seed` fixes the resampling); nil when they share no subject with the value.
    public static func pairedDifference(_ model: ModelSummary, _ base: ModelSummary, value: (SubjectScores) -> Double?,
                                        seed: UInt64) -> Estimate? {
        let baseBy = Dictionary(base.subjects.map { ($0.subject, $0) }, uniquingKeysWith: { a, _ in a })
        let shared = model.subjects.compactMap { s -> (Double, Int)? in
            guard let b = baseBy[s.subject], let mv = value(s), let bv = value(b) else { return nil }
            return (mv - bv, s.images)
        }
        guard !shared.isEmpty else { return nil }
        return BenchStatistics.bootstrap(shared.map(\.0), images: shared.map(\.1).reduce(0, +), seed: seed)
    }

    /// The bench row of JeDi (BenchKit's `JeDiBench`), compared with the original adapter.
    public static let jediLoss = "jedi"

    /// Whether `loss` is a dpo-train loss applied to JeDi (`<loss>-jedi`, e.g. `patchdpo-jedi`), compared with the row `jedi`.
    static func trainsJeDi(_ loss: String?) -> Bool { loss.map { $0.hasSuffix("-" + jediLoss) } ?? false }

    /// The PatchDPO models the reproduction asks about (seed means where there are several seeds): patchdpo with
    /// the finetuned ViT, then patchdpo-aligned with it, then patchdpo with the original ViT, where present.
    static func subjects(in rows: [ModelSummary]) -> [ModelSummary] {
        [("patchdpo", "finetuned"), ("patchdpo-aligned", "finetuned"), ("patchdpo", "original")].compactMap { loss, vit in
            rows.first { $0.loss == loss && $0.vit == vit }
        }
    }

    /// One row per (setting, PatchDPO model, base in original / dm / diffusion-dpo): the paired difference
    /// model - base on each metric, seeds pooled (the seed-mean model of each loss against the seed-mean base).
    public static func pairedDifferences(_ summaries: [ModelSummary], seed: UInt64) -> Table {
        let reps = ModelSummaries.representatives(summaries)
        var rows: [[Cell]] = []
        for setting in Set(reps.map(\.setting)).sorted() {
            let inSetting = reps.filter { $0.setting == setting }
            let bases = [inSetting.first { $0.loss == nil }, inSetting.first { $0.loss == "dm" },
                         inSetting.first { $0.loss == "diffusion-dpo" }].compactMap { $0 }
            // JeDi (issue 17) against the original adapter only: the other bases are preference-trained adapters; and every
            // model preference-trained from JeDi (patchdpo-jedi, ...) against JeDi itself.
            let jediRow = inSetting.first { $0.loss == jediLoss }
            let jedi = jediRow.map { j in bases.filter { $0.loss == nil }.map { (j, $0) } } ?? []
            let fromJeDi = jediRow.map { j in inSetting.filter { trainsJeDi($0.loss) }.map { ($0, j) } } ?? []
            for (model, base) in subjects(in: inSetting).flatMap({ m in bases.map { (m, $0) } }) + jedi + fromJeDi {
                let cells: [Cell] = metrics.map { m in
                    let e = pairedDifference(model, base, value: m.value,
                                             seed: BenchStatistics.seed(seed, "paired|\(setting)|\(model.name)|\(base.name)|\(m.name)"))
                    return e.map { .estimate($0, digits: 3) } ?? .text("")
                }
                rows.append([.text(setting), .text(model.name), .text(base.name)] + cells)
            }
        }
        return Table(id: "paired-differences", title: "PatchDPO against the original model, dm and diffusion-dpo (JeDi against the original, JeDi's preference-trained models against JeDi): paired differences",
                     columns: ["Setting", "Model", "Against"] + metrics.map(\.name), rows: rows,
                     notes: ["Each cell: mean over the subjects both models have of (model - other), with its paired percentile "
                             + "bootstrap 95% interval (subjects resampled). Models trained with several seeds enter as their seed "
                             + "mean per subject, so seeds are pooled. An interval that excludes 0 is a difference the bench can see."])
    }

    /// Paper Table 4 in its shape: each combination's DINO, CLIP-I, CLIP-T and DINO change relative to the original
    /// model, ours (seed means, in `setting`) beside the paper's. Absolute values are not comparable across the two
    /// worlds (a 32 px procedural world against DreamBench photographs); the relative changes are the comparison.
    public static func table4(_ summaries: [ModelSummary], setting: String) -> Table {
        let reps = ModelSummaries.representatives(summaries).filter { $0.setting == setting }
        let paperBase = PaperNumbers.table4[0]
        let ours = reps.first { $0.loss == nil }
        func pct(_ v: Double?, _ b: Double?) -> Cell {
            guard let v, let b, b != 0 else { return .text("") }
            return .number(100 * (v / b - 1), digits: 1)
        }
        let rows: [[Cell]] = PaperNumbers.table4.map { c in
            let m = reps.first { $0.loss == c.loss && (c.vit == nil || $0.vit == c.vit) }
            return [.text(c.label), .text(m?.name ?? "(not trained)"),
                    m.map { .estimate($0.dino, digits: 3) } ?? .text(""), m.map { .estimate($0.clipI, digits: 3) } ?? .text(""),
                    m.map { .estimate($0.clipT, digits: 3) } ?? .text(""), pct(m?.dino.mean, ours?.dino.mean),
                    .number(c.dino, digits: 3), .number(c.clipI, digits: 3), .number(c.clipT, digits: 3), pct(c.dino, paperBase.dino)]
        }
        return Table(id: "table4-beside-paper", title: "Table 4 beside the paper (\(setting))",
                     columns: ["Combination", "Our model", "DINO", "CLIP-I", "CLIP-T", "DINO vs original (%)",
                               "Paper DINO", "Paper CLIP-I", "Paper CLIP-T", "Paper DINO vs original (%)"],
                     rows: rows,
                     notes: ["Paper: PatchDPO Table 4 (IP-Adapter-Plus on SD 1.5, DreamBench in its original setting, every image "
                             + "of the object, which is our all-references setting); combination (1), L_dm on natural SA-1B images, "
                             + "has no counterpart here. Ours: seed means over the bench's test subjects with bootstrap 95% "
                             + "intervals. Compare the relative changes, not the absolute values."])
    }

    /// Paper Table 1 in its shape: patch matching (%) at the paper's layers before and after the SSL training,
    /// ours (each data source) beside the paper's ViT-Base.
    public static func table1(_ rows: [PatchMatchingRow]) -> Table {
        var out: [[Cell]] = []
        for (i, layer) in PaperNumbers.table1Layers.enumerated() {
            for source in Set(rows.map(\.source)).sorted() {
                let r = rows.first { $0.source == source && $0.block == layer }
                out.append([.int(layer), .text(source), .number(r?.beforePct, digits: 1), .number(r?.afterPct, digits: 1),
                            .number(r.map { $0.afterPct - $0.beforePct }, digits: 1),
                            .number(PaperNumbers.table1Before[i], digits: 1), .number(PaperNumbers.table1After[i], digits: 1),
                            .number(PaperNumbers.table1After[i] - PaperNumbers.table1Before[i], digits: 1)])
            }
        }
        return Table(id: "table1-beside-paper", title: "Table 1 beside the paper: patch matching (%) by layer",
                     columns: ["Layer", "Our data", "Before", "After", "Change", "Paper before", "Paper after", "Paper change"],
                     rows: out,
                     notes: ["Paper: PatchDPO Table 1 (ViT-Base, HPatches). Ours: the shipped ViT before and after ssl-finetune-vit, "
                             + "at the same block numbers; n/a is a block our ViT does not have or the run did not measure."])
    }
}
