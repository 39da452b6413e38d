import Foundation

/// Whether one of issue 7's goals was met in this run.
/// `metPointEstimate`: the estimate clears the goal but its 95% interval does not.
public enum GoalStatus: String, Sendable, Equatable, Codable {
    case met, metPointEstimate = "met (point estimate only)", notMet = "not met", notMeasured = "not measured"
}

public struct GoalCheck: Sendable, Equatable {
    public var goal: String
    public var status: GoalStatus
    public var detail: String
}

/// PatchDPO (finetuned ViT) against the original model on one metric: both estimates, the paired
/// relative change 100 * (model / base - 1) % and the paired difference mean(model - base), each with
/// its bootstrap interval over the shared subjects. The difference is the readable one when the base's
/// mean is near 0 (a judge's cosine can be): the ratio's interval is then unbounded.
public struct HeadlineComparison: Sendable, Equatable {
    public var metric: String
    public var model: ModelSummary
    public var base: ModelSummary
    public var modelEstimate: Estimate
    public var baseEstimate: Estimate
    public var relativePct: Estimate
    public var difference: Estimate
}

/// The report's headline: the comparisons and the goals of issue 7, computed from the summaries.
public struct Headline: Sendable, Equatable {
    public var setting: String?
    public var comparisons: [HeadlineComparison]
    public var goals: [GoalCheck]
    /// Caveats on how the headline's models were chosen (e.g. a patchdpo model without a recorded ViT).
    public var notes: [String]
}

public enum HeadlineGoals {
    public static let dinoGainPct = 3.0, clipTTolerancePct = 1.0, matchingGainPoints = 5.0, aurocGoal = 0.9

    /// Goals: (1) DINO >= +3% relative over the original model with CLIP-T down at most 1%; (2) DINO above
    /// diffusion-dpo; (3) patch matching +5 points at the chosen block (the patch-quality block, else the
    /// best finetuned block); (4) patch-quality AUROC >= 0.9 with the finetuned ViT.
    public static func compute(_ results: BenchResults, summaries: [ModelSummary], seed: UInt64) -> Headline {
        let reps = ModelSummaries.representatives(summaries)
        let setting = reps.contains { $0.setting == "all-references" } ? "all-references" : reps.first?.setting
        let inSetting = reps.filter { $0.setting == setting }
        let base = inSetting.first { $0.loss == nil }
        // A patchdpo adapter whose record predates the `vit` field stands in for the finetuned-ViT one.
        let finetuned = inSetting.first { $0.loss == "patchdpo" && $0.vit == "finetuned" }
        let patch = finetuned ?? inSetting.first { $0.loss == "patchdpo" && $0.vit == nil }
        var notes: [String] = []
        if finetuned == nil, let p = patch {
            notes.append("\(p.name): its adapter record names no ViT; taken as the patchdpo model with the finetuned ViT.")
        }
        let ddpo = inSetting.first { $0.loss == "diffusion-dpo" }
        var comparisons: [HeadlineComparison] = []
        if let base, let patch {
            let metrics: [(String, (SubjectScores) -> Double?, KeyPath<ModelSummary, Estimate>)] = [
                ("Identity", { $0.identity }, \.identity), ("Detail", { $0.detail }, \.detail),
                ("DINO", { $0.dino }, \.dino), ("CLIP-T", { $0.clipT }, \.clipT),
            ]
            let baseBy = Dictionary(base.subjects.map { ($0.subject, $0) }, uniquingKeysWith: { a, _ in a })
            for (metric, value, estimate) in metrics {
                let shared = patch.subjects.compactMap { s -> (SubjectScores, Double, Double)? in
                    guard let b = baseBy[s.subject], let mv = value(s), let bv = value(b) else { return nil }
                    return (s, mv, bv)
                }
                guard !shared.isEmpty else { continue }
                let m = shared.map(\.1), b = shared.map(\.2)
                let images = shared.map(\.0.images).reduce(0, +)
                let rel = BenchStatistics.relativeChange(model: m, base: b, images: images,
                                                         seed: BenchStatistics.seed(seed, "headline|\(metric)"))
                let diff = BenchStatistics.bootstrap(zip(m, b).map { $0 - $1 }, images: images,
                                                     seed: BenchStatistics.seed(seed, "headline-difference|\(metric)"))
                comparisons.append(HeadlineComparison(metric: metric, model: patch, base: base, modelEstimate: patch[keyPath: estimate],
                                                      baseEstimate: base[keyPath: estimate], relativePct: rel, difference: diff))
            }
        }
        var goals: [GoalCheck] = []
        let g1 = "DINO +\(fmt(dinoGainPct))% relative to the original model with CLIP-T within \(fmt(clipTTolerancePct))%"
        let dinoC = comparisons.first { $0.metric == "DINO" }, clipTC = comparisons.first { $0.metric == "CLIP-T" }
        if let dinoC, let clipTC, let d = dinoC.relativePct.mean, let t = clipTC.relativePct.mean {
            // Met when the point estimates clear it and the relative DINO change's 95% interval is above the gain; on the
            // point estimates alone it is `metPointEstimate`.
            let dd = dinoC.difference
            let noise = (dd.low ?? 0) <= 0 && (dd.high ?? 0) >= 0 ? " (point estimates; the paired DINO difference's 95% interval includes 0)" : ""
            let clears = d >= dinoGainPct && t >= -clipTTolerancePct
            let sure = (dinoC.relativePct.low.map { $0 >= dinoGainPct } ?? false) && (clipTC.relativePct.low.map { $0 >= -clipTTolerancePct } ?? false)
            goals.append(GoalCheck(goal: g1, status: !clears ? .notMet : sure ? .met : .metPointEstimate,
                                   detail: "DINO \(signed(d))%, CLIP-T \(signed(t))%" + noise))
        } else {
            goals.append(GoalCheck(goal: g1, status: .notMeasured, detail: "needs the original model and patchdpo (finetuned ViT) in \(setting ?? "any setting")"))
        }
        let g2 = "patchdpo (finetuned ViT) beats diffusion-dpo on DINO"
        if let patch, let ddpo, let p = patch.dino.mean, let d = ddpo.dino.mean {
            // Met when the paired difference over the shared subjects has its 95% interval above 0.
            let diff = ReproductionTables.pairedDifference(patch, ddpo, value: { $0.dino },
                                                           seed: BenchStatistics.seed(seed, "headline-diffusion-dpo|DINO"))
            let status: GoalStatus = p <= d ? .notMet : (diff?.low.map { $0 > 0 } ?? false) ? .met : .metPointEstimate
            let interval = diff.flatMap { e in e.mean.map { m in
                "; paired difference \(Cell.format(m, 4)) [\(Cell.format(e.low ?? m, 4)), \(Cell.format(e.high ?? m, 4))] over \(e.subjects) subjects"
            } } ?? ""
            goals.append(GoalCheck(goal: g2, status: status, detail: "DINO \(Cell.format(p, 4)) vs \(Cell.format(d, 4)) (means over subjects)" + interval))
        } else {
            goals.append(GoalCheck(goal: g2, status: .notMeasured, detail: "needs both models in \(setting ?? "any setting")"))
        }
        goals.append(matchingGoal(results))
        goals.append(aurocGoalCheck(results.auroc))
        return Headline(setting: setting, comparisons: comparisons, goals: goals, notes: notes)
    }

    static func matchingGoal(_ results: BenchResults) -> GoalCheck {
        let source = results.patchMatching.first?.source
        let rows = results.patchMatching.filter { $0.source == source }
        let chosen = results.auroc.first { $0.vit == "finetuned" }?.block
        let row = rows.first { $0.block == chosen } ?? rows.max { $0.afterPct < $1.afterPct }
        let goal = "patch matching +\(fmt(matchingGainPoints)) points after SSL finetuning at the chosen block"
        guard let row else { return GoalCheck(goal: goal, status: .notMeasured, detail: "no patch-matching rows") }
        let gain = row.afterPct - row.beforePct
        let why = row.block == chosen ? "the patch-quality block" : "the best finetuned block"
        return GoalCheck(goal: goal, status: gain >= matchingGainPoints ? .met : .notMet,
                         detail: "block \(row.block) (\(why)), \(row.source): \(Cell.format(row.beforePct, 1))% -> "
                             + "\(Cell.format(row.afterPct, 1))% (\(signed(gain)) points, \(row.cells) cells)")
    }

    static func aurocGoalCheck(_ rows: [AUROCRow]) -> GoalCheck {
        let goal = "patch-quality AUROC >= \(fmt(aurocGoal)) against injected defects"
        let all = rows.filter { $0.defect == nil }
        let paper = all.filter { !$0.isAligned }
        guard let r = paper.first(where: { $0.vit == "finetuned" }) ?? paper.max(by: { $0.auroc < $1.auroc })
                ?? all.max(by: { $0.auroc < $1.auroc }) else {
            return GoalCheck(goal: goal, status: .notMeasured, detail: "no AUROC rows")
        }
        let ceiling = PaperTables.referenceMatchingCeiling(rows, vit: r.vit)
            .map { "; ceiling of any max-over-reference quality on this defect mix: \(Cell.format($0, 3))" } ?? ""
        let aligned = all.first { $0.vit == r.vit + "-aligned" }
            .map { "; aligned quality (block \($0.block)): \(Cell.format($0.auroc, 3)) \(PaperTables.interval($0))" } ?? ""
        let status: GoalStatus = r.auroc < aurocGoal ? .notMet : (r.low.map { $0 >= aurocGoal } ?? true) ? .met : .metPointEstimate
        return GoalCheck(goal: goal, status: status,
                         detail: "\(r.vit) ViT, block \(r.block): \(Cell.format(r.auroc, 3)) \(PaperTables.interval(r)) over \(r.patches) patches "
                             + "of \(r.images.map(String.init) ?? "?") images" + ceiling + aligned)
    }

    static func fmt(_ v: Double) -> String { v == v.rounded() ? String(Int(v)) : String(v) }
    static func signed(_ v: Double) -> String { (v >= 0 ? "+" : "") + Cell.format(v, 1) }
}
