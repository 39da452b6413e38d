import ArgumentParser
import Foundation
import Manifest
import Synchronization
import Testing
@testable import StageKit

@Test func shardSpecParsesOnlyValidSplits() {
    #expect(ShardSpec(argument: "0/2") == ShardSpec(argument: "0/2"))
    #expect(ShardSpec(argument: "1/2")?.shard == Shard(index: 1, count: 2))
    for bad in ["2/2", "-1/2", "0/0", "1", "a/b", "1/2/3", ""] { #expect(ShardSpec(argument: bad) == nil, "\(bad)") }
}

@Test func commonOptionsValidateBeforeRun() throws {
    let config = FileManager.default.temporaryDirectory.appendingPathComponent("opts-\(UUID().uuidString).toml")
    try "[run]\nname = \"x\"\n".write(to: config, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(at: config) }
    let ok = try CommonOptions.parse(["--config", config.path, "--shard", "1/3", "--set", "a=1", "--log-level", "warn"])
    #expect(ok.shard?.index == 1 && ok.overrides == ["a=1"] && ok.logLevel == .warn)
    // Each refusal for its own reason (the message ArgumentParser prints), not just any error: `--seed -1`
    // used to pass by failing as a missing value (-1 reads as an option), never reaching the range check.
    let refusals: [([String], String)] = [(["--force", "--shard", "0/2"], "--force cannot be combined with --shard"),
                                          (["--seed=-1"], "--seed must be in 0..."), (["--threads", "0"], "--threads must be in 1...256"),
                                          (["--set", "novalue"], "--set novalue: expected key=value"), (["--lease", "0"], "--lease must be > 0")]
    for (args, why) in refusals {
        #expect("\(args)", performing: { try CommonOptions.parse(["--config", config.path] + args) },
                throws: { CommonOptions.message(for: $0).contains(why) })
    }
    #expect(performing: { try CommonOptions.parse(["--config", "/nonexistent.toml"]) },
            throws: { CommonOptions.message(for: $0).contains("/nonexistent.toml does not exist") })
}

@Test func resumeCommandDropsForceAndQuotes() {
    #expect(Interrupts.resumeCommand(arguments: ["/bin/x", "produce", "--force", "--set", "a=b c", "--run-dir", "it's"])
            == "/bin/x produce --set 'a=b c' --run-dir 'it'\\''s'")
}

@Test func exitCodesFollowTheTable() {
    #expect(StageExitCode.of(StageError.busy(stage: "s", lock: "l")) == .busy)
    #expect(StageExitCode.of(ConfigError.missingSection(file: "f", section: "s")) == .dataError)
    #expect(StageExitCode.of(ManifestError.newerSchema(path: "p", found: 3, supported: 1)) == .dataError)
    #expect(StageExitCode.of(ManifestError.corrupt(path: "p", detail: "d")) == .dataError)
    #expect(StageExitCode.of(StageError.upstreamMissing(stage: "a", upstreams: ["b"])) == .noInput)
    #expect(StageExitCode.of(StageError.interrupted(stage: "a", signal: 2, resume: "x")) == .interrupted)
    #expect(StageExitCode.of(CocoaError(.fileNoSuchFile)) == .internalError)
    #expect(Set(StageExitCode.allCases.map(\.rawValue)).count == StageExitCode.allCases.count)
}

/// Every stage's `--help` lists the one table, made from the cases (so it cannot drift from them).
@Test func exitCodeHelpIsTheTable() {
    #expect(StageExitCode.help() == "Exit codes: 0 ok, 1 items failed, 64 usage, 65 data error, 66 missing input, 70 internal, "
            + "74 I/O, 75 busy, 130 interrupted.")
    #expect(StageExitCode.help(items: false) == "Exit codes: 0 ok, 64 usage, 65 data error, 66 missing input, 70 internal, "
            + "74 I/O, 75 busy, 130 interrupted.")
}

@Test func fileLockExcludesAndReleases() throws {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("lock-\(UUID().uuidString)/s.lock").path
    var first: FileLock? = try FileLock(path: path)
    #expect(first != nil)
    #expect(try FileLock(path: path) == nil)
    #expect(try FileLock(path: path, shared: true) == nil)
    first = nil
    _ = first
    let s1 = try #require(try FileLock(path: path, shared: true))
    let s2 = try #require(try FileLock(path: path, shared: true))
    #expect(try FileLock(path: path) == nil)
    withExtendedLifetime((s1, s2)) {}
}

final class Lines: @unchecked Sendable {
    let m = Mutex<[String]>([])
    func add(_ s: String) { m.withLock { $0.append(s) } }
    var all: [String] { m.withLock { $0 } }
}

@Test func progressLogsPlainLinesAtIntervalsWhenNotATerminal() {
    let lines = Lines()
    nonisolated(unsafe) var now = 100.0   // only this test's closures read it, on this thread
    let log = Log(stage: "s", level: .info, sink: { lines.add($0) }, clock: { Date(timeIntervalSince1970: 1_000_000_000) })
    let p = ProgressReporter(total: 10, log: log, terminal: false, interval: 5, heartbeat: false, clock: { now })
    #expect(lines.all == ["2001-09-09T01:46:40Z s info: 0/10 items (0%), 0.0 items/s, eta ?\n"])   // the 0% line
    for _ in 0..<4 { now += 1; p.advance() }        // 4 s: nothing more yet
    #expect(lines.all.count == 1)
    now += 1; p.advance()                           // 5 s: one line
    #expect(lines.all.last == "2001-09-09T01:46:40Z s info: 5/10 items (50%), 1.0 items/s, eta 5.00s\n")
    p.finish()                                      // the count did not change since: no repeat
    #expect(lines.all.count == 2)

    let bar = Lines()
    let barLog = Log(stage: "s", level: .info, sink: { bar.add($0) })
    let t = ProgressReporter(total: 4, log: barLog, terminal: true, clock: { now })
    t.advance(by: 2)
    #expect(bar.all.first?.hasPrefix("\rs: [###############---------------] 2/4") == true)
    #expect(bar.all.first?.hasSuffix("\u{1B}[K") == true, "the bar clears the rest of its line")
    barLog.warn("slow")                              // a log line clears the bar first, never lands after it
    #expect(bar.all.last?.hasPrefix("\r\u{1B}[K") == true && bar.all.last?.hasSuffix(" s warning: slow\n") == true,
            "\(bar.all)")
    t.advance()
    t.finish()                                      // the final bar again, and the line ends
    #expect(bar.all.last?.hasPrefix("\rs: [######################--------] 3/4") == true
            && bar.all.last?.hasSuffix("\u{1B}[K\n") == true, "\(bar.all)")
    barLog.info("after")                             // the bar's line has ended: nothing to clear
    #expect(bar.all.last?.hasPrefix("\r") == false)
}

@Test func summaryLineAndDurations() {
    var s = StageSummary(stage: "x")
    s.done = 3; s.skipped = 2; s.failed = 1; s.seconds = 75
    #expect("\(s)" == "x: done 3, skipped 2, failed 1 in 1m15s")
    #expect(ProgressReporter.duration(0.5) == "0.50s")
    #expect(ProgressReporter.duration(3700) == "1h01m")
}

