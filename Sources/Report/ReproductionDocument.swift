import Foundation

/// docs/reproduction.md (issue 16 item 2): the reproduction's report as one Markdown document, written beside
/// every run's HTML report (`report/reproduction.md`; `make reproduce` copies its run's into docs/).
public enum ReproductionDocument {
    /// The compass numbers first (patchdpo's paired Detail difference over the original with its interval, and
    /// whether it beats diffusion-dpo), then the paired differences, the paper's Tables 4 and 1 beside ours, the
    /// DreamBench table, the AUROC table and the stage times that make the wall time.
    public static func markdown(_ content: ReportContent) -> String {
        let r = content.results
        let wall = r.stageTimes.map(\.seconds).reduce(0, +)
        var out = "# Reproduction: PatchDPO against every baseline\n\n"
        out += "Written by the bench stage from `artifacts/bench/results.json` (`render-report` rewrites it). "
        out += "Command: `make reproduce` (pipelines/reproduce.toml). "
        // The bench writes this file from its own last item, before its stage run finishes: its time cannot be in the sum.
        out += "Wall time of the stages before the bench: \(format(seconds: wall)), the sum of their last finished runs (table at "
            + "the end); the bench's own time is not in it (it writes this file before it finishes; README states the whole run's).\n\n"
        out += "Config: " + r.config.keys.sorted().map { "\($0) = \(r.config[$0]!)" }.joined(separator: ", ") + "\n\n"
        out += "## Compass\n\n" + compass(content).map { "- \($0)\n" }.joined() + "\n"
        let settings = Set(content.summaries.map(\.setting)).sorted()
        var tables = [ReproductionTables.pairedDifferences(content.summaries, seed: content.seed)]
        tables += settings.map { ReproductionTables.table4(content.summaries, setting: $0) }
        tables.append(ReproductionTables.table1(r.patchMatching))
        tables += ["table4-dreambench", "auroc", "stage-times"].compactMap(content.table)
        for t in tables { out += t.markdown + "\n" }
        return out
    }

    /// "patchdpo (finetuned ViT) - original on Detail (all-references): +0.012 [-0.004, +0.029] (interval includes 0)", and
    /// the same against diffusion-dpo on Detail and DINO, in the headline's setting.
    static func compass(_ content: ReportContent) -> [String] {
        let reps = ModelSummaries.representatives(content.summaries)
        guard let setting = content.headline.setting else { return ["no model results"] }
        let inSetting = reps.filter { $0.setting == setting }
        guard let patch = inSetting.first(where: { $0.loss == "patchdpo" && $0.vit == "finetuned" }) else {
            return ["no patchdpo model with the finetuned ViT in \(setting)"]
        }
        var lines: [String] = []
        let others: [(String, ModelSummary?, [String])] = [
            ("the original model", inSetting.first { $0.loss == nil }, ["Detail", "Identity", "DINO"]),
            ("diffusion-dpo", inSetting.first { $0.loss == "diffusion-dpo" }, ["Detail", "DINO"]),
        ]
        for (label, other, metricNames) in others {
            guard let other else { lines.append("\(label): not in this run"); continue }
            for name in metricNames {
                let value = ReproductionTables.metrics.first { $0.name == name }!.value
                guard let d = ReproductionTables.pairedDifference(patch, other, value: value,
                                                                  seed: BenchStatistics.seed(content.seed, "compass|\(label)|\(name)")),
                      let m = d.mean else { lines.append("\(patch.name) - \(other.name) on \(name): not measured"); continue }
                let verdict = (d.low ?? 0) > 0 ? "above, the interval excludes 0"
                    : (d.high ?? 0) < 0 ? "below, the interval excludes 0" : "the interval includes 0"
                lines.append("\(patch.name) - \(other.name) on \(name) (\(setting), \(d.subjects) subjects): "
                             + "\(signed(m)) [\(signed(d.low)), \(signed(d.high))] (\(verdict))")
            }
        }
        return lines
    }

    static func signed(_ v: Double?) -> String {
        guard let v else { return "?" }
        return (v >= 0 ? "+" : "") + String(format: "%.3f", v)
    }

    static func format(seconds s: Double) -> String {
        let m = Int((s / 60).rounded())
        return m >= 60 ? "\(m / 60) h \(m % 60) min" : "\(m) min"
    }
}
