import Foundation
import Report
import StageKit

/// Writes the report of `results` into `<run>/report` (index.html and tables/*.{csv,json,md}, each
/// file atomically) and logs where it went.
func writeReport(_ results: BenchResults, runDirectory: URL, log: Log) throws {
    let dir = runDirectory.appendingPathComponent("report")
    let files = try ReportWriter.write(results, runDirectory: runDirectory, reportDirectory: dir)
    log.info("report: \(dir.appendingPathComponent("index.html").path) (\(files.count) files)")
}
