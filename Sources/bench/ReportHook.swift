import Foundation
import Report
import StageKit

/// Writes the report of `results` into `<run>/report`. The Report library's writer is on branch
/// `report`; until it is merged this only logs where the report will go. At the merge, replace the
/// body with: `try ReportWriter.write(results, runDirectory: runDirectory, reportDirectory:
/// runDirectory.appendingPathComponent("report"))`.
func writeReport(_ results: BenchResults, runDirectory: URL, log: Log) throws {
    log.info("report: ReportWriter not merged yet; results are in artifacts/bench/results.json "
             + "(\(results.models.count) model rows, \(results.figures.count) figure(s))")
}
