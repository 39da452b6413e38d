import Foundation
import StageKit
import Testing

// Issue 20 item 3: logs that work under cron. Every line carries an ISO-8601 timestamp, the stage and the level
// (text or JSON lines); piped progress logs at 0%, at 100% and at least every interval.

private let fixed = Date(timeIntervalSince1970: 1_000_000_000.25)   // 2001-09-09T01:46:40.250Z

@Test func textLinesCarryAnISO8601TimestampTheStageAndTheLevel() throws {
    let lines = Lines()
    let log = Log(stage: "pretrain-adapter", level: .info, sink: { lines.add($0) })
    log.info("40 item(s) to do")
    log.warn("item 'a' failed: boom")
    log.error("stopped")
    log.debug("not shown at info")
    #expect(lines.all.count == 3, "\(lines.all)")
    let pattern = try Regex(#"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z pretrain-adapter (info|warning|error): .+\n$"#)
    for line in lines.all { #expect(line.wholeMatch(of: pattern) != nil, "\(line)") }
    // The timestamp is now, in UTC.
    let stamp = try #require(lines.all.first?.prefix(20))
    let parsed = try #require(ISO8601DateFormatter().date(from: String(stamp)))
    #expect(abs(parsed.timeIntervalSinceNow) < 60)

    let exact = Lines()
    let fixedLog = Log(stage: "s", level: .debug, sink: { exact.add($0) }, clock: { fixed })
    fixedLog.debug("d"); fixedLog.info("i"); fixedLog.warn("w"); fixedLog.error("e")
    #expect(exact.all == ["2001-09-09T01:46:40Z s debug: d\n", "2001-09-09T01:46:40Z s info: i\n",
                          "2001-09-09T01:46:40Z s warning: w\n", "2001-09-09T01:46:40Z s error: e\n"])
}

@Test func jsonLinesParseOneObjectALine() throws {
    let lines = Lines()
    let log = Log(stage: "score-and-pair", level: .info, format: .json, sink: { lines.add($0) }, clock: { fixed })
    log.info("plain")
    log.warn("quotes \" backslash \\ newline \n tab \t bell \u{7} unicode é")
    log.debug("filtered")
    let p = ProgressReporter(total: 2, log: log, terminal: true, heartbeat: false)   // JSON never draws the bar
    p.advance(by: 2)
    p.finish()
    #expect(lines.all.count == 4, "\(lines.all)")
    var objects: [[String: Any]] = []
    for line in lines.all {
        #expect(line.hasSuffix("\n") && line.dropLast().firstIndex(of: "\n") == nil, "one line each: \(line)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(line)")
        objects.append(object)
    }
    #expect(objects.allSatisfy { $0["ts"] as? String == "2001-09-09T01:46:40.250Z" && $0["stage"] as? String == "score-and-pair" })
    #expect(objects.map { $0["level"] as? String } == ["info", "warning", "info", "info"])
    #expect(objects[1]["message"] as? String == "quotes \" backslash \\ newline \n tab \t bell \u{7} unicode é")
    #expect(objects[2]["message"] as? String == "0/2 items (0%), 0.0 items/s, eta ?")
    #expect(objects[3]["completed"] as? String == "2" && objects[3]["total"] as? String == "2")
}

@Test func pipedProgressLogsAtZeroAndHundredPercentForAShortRun() {
    let lines = Lines()
    nonisolated(unsafe) var now = 0.0
    let log = Log(stage: "s", level: .info, sink: { lines.add($0) }, clock: { fixed })
    let p = ProgressReporter(total: 3, log: log, terminal: false, interval: 10, heartbeat: false, clock: { now })
    for _ in 0..<3 { now += 0.3; p.advance() }   // a 1-second stage
    p.finish()
    p.finish()                                    // once only
    #expect(lines.all.map { $0.dropFirst(21) } == ["s info: 0/3 items (0%), 0.0 items/s, eta ?\n",
                                                   "s info: 3/3 items (100%), 3.3 items/s, eta 0.00s\n"])
    // Nothing to do: no progress lines at all.
    let none = Lines()
    let empty = ProgressReporter(total: 0, log: Log(stage: "s", level: .info, sink: { none.add($0) }), terminal: false)
    empty.finish()
    #expect(none.all.isEmpty)
}

@Test func pipedProgressLogsAtLeastEveryIntervalEvenWhenItemsAreSlow() throws {
    let lines = Lines()
    nonisolated(unsafe) var now = 0.0
    let log = Log(stage: "s", level: .info, sink: { lines.add($0) }, clock: { fixed })
    let p = ProgressReporter(total: 50, log: log, terminal: false, interval: 10, heartbeat: false, clock: { now })
    var emitted: [Double] = [0]
    for i in 0..<50 {
        // Items of 3 s, and one of 35 s: the heartbeat's ticks (each second) cover it.
        let seconds = i == 20 ? 35 : 3
        for _ in 0..<seconds {
            now += 1
            let before = lines.all.count
            p.tick()
            if lines.all.count > before { emitted.append(now) }
        }
        let before = lines.all.count
        p.advance()
        if lines.all.count > before { emitted.append(now) }
    }
    p.finish()
    let gaps = zip(emitted.dropFirst(), emitted).map { $0 - $1 }
    #expect(gaps.allSatisfy { $0 <= 10 }, "\(emitted)")
    #expect(lines.all.last?.contains("50/50 items (100%)") == true, "\(lines.all.last ?? "")")
    #expect(lines.all.filter { $0.contains("20/50 items") }.count >= 3, "the slow item is covered: \(lines.all)")

    // The real heartbeat (a timer) logs while no item finishes.
    let beats = Lines()
    let q = ProgressReporter(total: 5, log: Log(stage: "s", level: .info, sink: { beats.add($0) }), terminal: false,
                             interval: 0.1)
    Thread.sleep(forTimeInterval: 1)
    q.finish()
    #expect(beats.all.count >= 4, "\(beats.all)")
    #expect(beats.all.allSatisfy { $0.contains("0/5 items (0%)") })
}

@Test func aStageLogsJSONWithLogFormatJSONAndTimestampedTextByDefault() throws {
    let box = try Sandbox(count: 3)
    let json = try box.run("produce", ["--log-format", "json"])
    #expect(json.status == 0, "\(json.stderr)")
    let lines = json.stderr.split(separator: "\n")
    #expect(lines.count >= 3, "\(json.stderr)")
    for line in lines {
        let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        #expect(object?["stage"] as? String == "fake-produce" && object?["ts"] is String && object?["level"] is String, "\(line)")
    }
    #expect(json.stdout.contains("fake-produce: done 3"), "the summary stays on stdout: \(json.stdout)")

    let text = try box.run("produce", ["--force"])
    let pattern = try Regex(#"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z fake-produce (debug|info|warning|error): .+$"#)
    for line in text.stderr.split(separator: "\n") { #expect(line.wholeMatch(of: pattern) != nil, "\(line)") }
    #expect(text.stderr.contains("3/3 items (100%)"), "\(text.stderr)")
}
