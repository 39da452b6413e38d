import ArgumentParser
import Foundation
import Report

/// render-report: (re)writes a run's HTML report and tables from a bench results.json, without rerunning the bench
/// stage; `--fixture` renders the built-in fixture; `--compare A B` writes the paired differences of two runs.
struct RenderReport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render-report",
        abstract: "Write a run's HTML report and tables from a bench results.json (or the built-in fixture).",
        discussion: "Exit codes: 0 ok, 64 usage, 65 bad results or perf file, 66 missing input, 74 write error.",
        version: BuildSources.version)

    @Argument(help: "The bench stage's results (<run>/artifacts/bench/results.json).") var results: String?
    @Flag(help: "Render the built-in fixture instead of a results file.") var fixture = false
    @Option(parsing: .upToNextOption,
            help: ArgumentHelp("Compare two runs: every metric's difference B - A with paired intervals.",
                               discussion: "Each is a run directory (its artifacts/bench/results.json) or a results.json; the page "
                                   + "and tables/compare.* go to --out (default: ./report-compare).",
                               valueName: "run"))
    var compare: [String] = []
    @Option(help: "Figure paths are relative to it (default: <run> of <run>/artifacts/bench/results.json; . for --fixture).")
    var runDir: String?
    @Option(help: "Output directory (default: <run-dir>/report).") var out: String?
    @Option(help: ArgumentHelp("perf-bench JSON lines replacing the results' performance section.",
                               discussion: "runs/perf/perf-bench.jsonl from `make perf`, for a bench stage that ran before it."))
    var perf: String?

    func validate() throws {
        if !compare.isEmpty {
            guard compare.count == 2, results == nil, !fixture, perf == nil, runDir == nil else {
                throw ValidationError("--compare takes exactly two runs (A B) and no results.json, --fixture, --perf or --run-dir")
            }
            return
        }
        guard fixture != (results != nil) else { throw ValidationError("give a results.json or --fixture (not both)") }
    }

    func run() throws {
        if !compare.isEmpty { return try runComparison() }
        var report: BenchResults
        let defaultRun: URL
        if let results {
            let url = URL(fileURLWithPath: results)
            report = try load(url)
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
            let files = try ReportWriter.write(report, runDirectory: run, reportDirectory: outDir,
                                               records: RunRecordsReader.read(runDirectory: run))
            print("render-report: wrote \(files.count) files to \(outDir.path) (open \(outDir.appendingPathComponent("index.html").path))")
        } catch {
            throw failure(error)
        }
    }

    /// `--compare A B`: the paired differences B - A into --out.
    func runComparison() throws {
        let urls = compare.map { p -> URL in
            let u = URL(fileURLWithPath: p)
            return p.hasSuffix(".json") ? u : u.appendingPathComponent("artifacts/bench/results.json")
        }
        let a = try load(urls[0]), b = try load(urls[1])
        let outDir = URL(fileURLWithPath: out ?? "report-compare")
        do {
            let files = try RunComparison.write(a, b, labelA: "\(a.run) (\(compare[0]))", labelB: "\(b.run) (\(compare[1]))", directory: outDir)
            print("render-report: wrote \(files.count) files to \(outDir.path) (open \(outDir.appendingPathComponent("index.html").path))")
        } catch {
            throw failure(error)
        }
    }

    /// Decodes a bench results file: 66 when it cannot be read, 65 when it is not one.
    func load(_ url: URL) throws -> BenchResults {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw fail(66, "cannot read \(url.path); run the bench stage first (it writes artifacts/bench/results.json)")
        }
        do { return try JSONDecoder().decode(BenchResults.self, from: data) } catch {
            throw fail(65, "\(url.path) is not a bench results file: \(error)")
        }
    }

    /// A writer error as its exit: 65 for a bad value, 74 otherwise.
    func failure(_ error: Error) -> ExitCode {
        if let e = error as? ReportError {
            if case .invalidValue = e { return fail(65, e.description) }
            return fail(74, e.description)
        }
        return fail(74, "\(error)")
    }

    /// Prints `message` as one `render-report: error:` line; returns the exit to throw.
    func fail(_ code: Int32, _ message: String) -> ExitCode {
        FileHandle.standardError.write(Data("render-report: error: \(message)\n".utf8))
        return ExitCode(code)
    }
}

RenderReport.main()
