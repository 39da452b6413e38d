// render-report: (re)writes a run's HTML report and tables from a bench results.json, without
// rerunning the bench stage; `--fixture` renders the built-in fixture (docs/report.png until a real run).
//   render-report <results.json> [--run-dir DIR] [--out DIR] [--perf FILE]
//   render-report --fixture [--run-dir DIR] [--out DIR]
// --run-dir: figure paths are relative to it (default: the results file's run, i.e. its
// grandparent for <run>/artifacts/bench/results.json; "." for --fixture); --out: default <run-dir>/report;
// --perf: perf-bench JSON lines (runs/perf/perf-bench.jsonl from `make bench`) replacing the results'
// performance section, for a bench stage that ran before `make bench` did.
// Exit codes: 0 ok, 64 usage, 65 bad results file, 66 missing input, 74 write error.
import Foundation
import Report

func fail(_ code: Int32, _ message: String) -> Never {
    FileHandle.standardError.write(Data("render-report: \(message)\n".utf8))
    exit(code)
}

var args = Array(CommandLine.arguments.dropFirst())
var runDir: String?, outDir: String?, perfFile: String?, input: String?, fixture = false
while !args.isEmpty {
    let a = args.removeFirst()
    switch a {
    case "--run-dir", "--out", "--perf":
        guard let v = args.first else { fail(64, "\(a) needs a path") }
        args.removeFirst()
        if a == "--run-dir" { runDir = v } else if a == "--out" { outDir = v } else { perfFile = v }
    case "--fixture": fixture = true
    case "-h", "--help":
        print("usage: render-report (<results.json> | --fixture) [--run-dir DIR] [--out DIR] [--perf FILE]"); exit(0)
    default:
        guard !a.hasPrefix("-"), input == nil else { fail(64, "unexpected argument \(a); see --help") }
        input = a
    }
}
guard fixture != (input != nil) else { fail(64, "give a results.json or --fixture (not both); see --help") }

var results: BenchResults
let defaultRun: URL
if let input {
    let url = URL(fileURLWithPath: input)
    guard let data = FileManager.default.contents(atPath: url.path) else {
        fail(66, "cannot read \(url.path); run the bench stage first (it writes artifacts/bench/results.json)")
    }
    do { results = try JSONDecoder().decode(BenchResults.self, from: data) } catch {
        fail(65, "\(url.path) is not a bench results file: \(error)")
    }
    defaultRun = url.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
} else {
    results = ReportFixture.make()
    defaultRun = URL(fileURLWithPath: ".")
}
if let perfFile {
    guard let d = FileManager.default.contents(atPath: perfFile) else { fail(66, "cannot read \(perfFile); run `make bench` first") }
    let entries = PerfEntry.parse(jsonLines: String(decoding: d, as: UTF8.self))
    guard !entries.isEmpty else { fail(65, "\(perfFile) holds no perf-bench JSON lines") }
    results.performance = entries
}
let run = runDir.map { URL(fileURLWithPath: $0) } ?? defaultRun
let out = outDir.map { URL(fileURLWithPath: $0) } ?? run.appendingPathComponent("report")
do {
    let files = try ReportWriter.write(results, runDirectory: run, reportDirectory: out)
    print("render-report: wrote \(files.count) files to \(out.path) (open \(out.appendingPathComponent("index.html").path))")
} catch let e as ReportError {
    if case .invalidValue = e { fail(65, e.description) }
    fail(74, e.description)
} catch {
    fail(74, "\(error)")
}
