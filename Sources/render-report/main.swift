import ArgumentParser
import Foundation
import Report

/// render-report: (re)writes a run's HTML report and tables from a bench results.json, without rerunning the bench
/// stage; `--fixture` renders the built-in fixture (docs/report.png until a real run).
struct RenderReport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render-report",
        abstract: "Write a run's HTML report and tables from a bench results.json (or the built-in fixture).",
        discussion: "Exit codes: 0 ok, 64 usage, 65 bad results or perf file, 66 missing input, 74 write error.",
        version: BuildSources.version)

    @Argument(help: "The bench stage's results (<run>/artifacts/bench/results.json).") var results: String?
    @Flag(help: "Render the built-in fixture instead of a results file.") var fixture = false
    @Option(help: "Figure paths are relative to it (default: <run> of <run>/artifacts/bench/results.json; . for --fixture).")
    var runDir: String?
    @Option(help: "Output directory (default: <run-dir>/report).") var out: String?
    @Option(help: ArgumentHelp("perf-bench JSON lines replacing the results' performance section.",
                               discussion: "runs/perf/perf-bench.jsonl from `make perf`, for a bench stage that ran before it."))
    var perf: String?

    func validate() throws {
        guard fixture != (results != nil) else { throw ValidationError("give a results.json or --fixture (not both)") }
    }

    func run() throws {
        var report: BenchResults
        let defaultRun: URL
        if let results {
            let url = URL(fileURLWithPath: results)
            guard let data = FileManager.default.contents(atPath: url.path) else {
                throw fail(66, "cannot read \(url.path); run the bench stage first (it writes artifacts/bench/results.json)")
            }
            do { report = try JSONDecoder().decode(BenchResults.self, from: data) } catch {
                throw fail(65, "\(url.path) is not a bench results file: \(error)")
            }
            defaultRun = url.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        } else {
            report = ReportFixture.make()
            defaultRun = URL(fileURLWithPath: ".")
        }
        if let perf {
            guard let d = FileManager.default.contents(atPath: perf) else { throw fail(66, "cannot read \(perf); run `make perf` first") }
            let entries = PerfEntry.parse(jsonLines: String(decoding: d, as: UTF8.self))
            guard !entries.isEmpty else { throw fail(65, "\(perf) holds no perf-bench JSON lines") }
            report.performance = entries
        }
        let run = runDir.map { URL(fileURLWithPath: $0) } ?? defaultRun
        let outDir = out.map { URL(fileURLWithPath: $0) } ?? run.appendingPathComponent("report")
        do {
            let files = try ReportWriter.write(report, runDirectory: run, reportDirectory: outDir)
            print("render-report: wrote \(files.count) files to \(outDir.path) (open \(outDir.appendingPathComponent("index.html").path))")
        } catch let e as ReportError {
            if case .invalidValue = e { throw fail(65, e.description) }
            throw fail(74, e.description)
        } catch {
            throw fail(74, "\(error)")
        }
    }

    /// Prints `message` as one `render-report: error:` line; returns the exit to throw.
    func fail(_ code: Int32, _ message: String) -> ExitCode {
        FileHandle.standardError.write(Data("render-report: error: \(message)\n".utf8))
        return ExitCode(code)
    }
}

RenderReport.main()
