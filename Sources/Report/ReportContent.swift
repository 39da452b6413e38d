import Foundation

/// Everything the report shows, computed once from `BenchResults`: model summaries (means and
/// bootstrap intervals), the frontier, the headline and the tables, in page order.
public struct ReportContent: Sendable {
    public var results: BenchResults
    /// Seed of every bootstrap in the report (config "seed" when it is an integer, else 20240917).
    public var seed: UInt64
    public var summaries: [ModelSummary]
    public var frontier: [PaperTables.FrontierSummary]
    public var headline: Headline
    public var tables: [Table]

    public init(_ results: BenchResults) {
        self.results = results
        seed = results.config["seed"].flatMap { UInt64($0.trimmingCharacters(in: .whitespaces)) } ?? 20_240_917
        summaries = ModelSummaries.summarise(results.models, seed: seed)
        frontier = PaperTables.frontierSummaries(results.frontier, seed: seed)
        headline = HeadlineGoals.compute(results, summaries: summaries, seed: seed)
        tables = [PaperTables.dreamBench(summaries), ReproductionTables.pairedDifferences(summaries, seed: seed),
                  ReproductionTables.table4(summaries, setting: headline.setting ?? "all-references"),
                  PaperTables.patchMatching(results.patchMatching), ReproductionTables.table1(results.patchMatching),
                  PaperTables.winRates(results.winRates), PaperTables.colourShift(results.colourShift),
                  PaperTables.frontier(frontier), PaperTables.auroc(results.auroc),
                  PaperTables.performance(results.performance), PaperTables.stageTimes(results.stageTimes)]
                  + (results.benchCost.map { $0.isEmpty ? [] : [PaperTables.benchCost($0)] } ?? [])
    }

    public func table(_ id: String) -> Table? { tables.first { $0.id == id } }

    /// The headline as a small table (tables/headline.*): comparisons, then goals.
    public var headlineTable: Table {
        var rows: [[Cell]] = headline.comparisons.map { c in
            [.text("\(c.model.name) vs \(c.base.name) (\(headline.setting ?? "")): \(c.metric)"),
             .text("\(Cell.estimate(c.modelEstimate, digits: 3).display) vs \(Cell.estimate(c.baseEstimate, digits: 3).display); "
                   + "paired difference \(Cell.estimate(c.difference, digits: 3).display)"),
             .estimate(c.relativePct, digits: 1)]
        }
        rows += headline.goals.map { [.text($0.goal), .text($0.detail), .text($0.status.rawValue)] }
        return Table(id: "headline", title: "Headline: PatchDPO (finetuned ViT) against the original model, and issue 7's goals",
                     columns: ["Item", "Numbers", "Relative change (%) / status"], rows: rows,
                     notes: ["Relative change = 100 (model / original - 1) over the subjects both have, paired bootstrap 95% interval; "
                             + "paired difference = mean over those subjects of (model - original), same bootstrap. When the "
                             + "original's interval includes 0 the ratio's interval is unbounded: read the difference."]
                         + headline.notes)
    }
}
