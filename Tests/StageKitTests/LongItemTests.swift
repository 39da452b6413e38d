import Foundation
import Manifest
import Testing
import TestSupport
@testable import StageKit

/// Long items (`ItemContext.checkpoints`, `checkInterrupt`, `restoreMetrics`; dpo-train's runs) through `fake-stage produce
/// --item-steps`: a signal stops an item between its steps with its state saved, and the next run resumes it there.
@Suite struct LongItemTests {
    static let steps = 40

    /// `<key>/step` metrics of the stage's newest run, as step lists per key.
    static func stepMetrics(_ box: Sandbox) throws -> [String: [Int]] {
        let db = try ManifestDB(path: box.runDir.appendingPathComponent("manifest.sqlite").path)
        let run = try #require(try db.stageRuns(stage: "fake-produce").first)
        var out: [String: [Int]] = [:]
        for m in try db.metrics(stageRun: run.id) where m.name.hasSuffix("/step") {
            out[String(m.name.dropLast(5)), default: []].append(m.step)
        }
        return out.mapValues { $0.sorted() }
    }

    /// The step saved in `key`'s checkpoint folder (0: none yet), found under any fingerprint.
    static func savedStep(_ box: Sandbox, _ key: String) -> Int {
        let root = box.artifact("fake-produce", "checkpoints")
        let fps = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        return fps.compactMap { fp in
            (try? String(contentsOf: root.appendingPathComponent("\(fp)/\(key)/step"), encoding: .utf8)).flatMap { Int($0) }
        }.max() ?? 0
    }

    /// Spawns `args` and sends SIGTERM once item-0000 has saved a step in 3...30; returns the exit status and stderr.
    static func interruptMidItem(_ box: Sandbox, _ args: [String]) throws -> (Int32, String) {
        let p = try box.spawn("produce", args)
        var waited = 0
        while savedStep(box, "item-0000") < 3 && waited < 20_000 { usleep(10_000); waited += 10 }
        p.signal(SIGTERM)
        let status = p.wait()
        #expect(savedStep(box, "item-0000") < steps, "item-0000 finished before the signal")
        return (status, p.stderr)
    }

    @Test func aSignalStopsALongItemBetweenStepsAndTheNextRunResumesIt() throws {
        let box = try Sandbox(count: 2)
        let args = ["--item-steps", "\(Self.steps)", "--sleep-ms", "20"]
        let (status, stderr) = try Self.interruptMidItem(box, args)
        #expect(status == 130, "\(stderr)")
        #expect(stderr.contains("item 'item-0000' stopped by the signal"))
        let db = try ManifestDB(path: box.runDir.appendingPathComponent("manifest.sqlite").path)
        let run = try #require(try db.stageRuns(stage: "fake-produce").first)
        #expect(run.status == .interrupted)
        let c = try db.counts(stageRun: run.id)
        // The item in flight went back to pending, neither failed nor left running for a lease to expire.
        #expect(c.failed == 0 && c.running == 0 && c.done == 0 && c.pending == 2)
        let stopped = Self.savedStep(box, "item-0000")
        let again = try box.run("produce", args)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stderr.contains("item-0000: resumed at step \(stopped)"))
        #expect(try String(contentsOf: box.artifact("fake-produce", "item-0000.resumed"), encoding: .utf8) == "\(stopped)\n")
        #expect(try String(contentsOf: box.artifact("fake-produce", "item-0001.resumed"), encoding: .utf8) == "0\n")
        let items = try db.items(stageRun: run.id)
        #expect(items.allSatisfy { $0.status == .done } && items.count == 2)
        // Every step's metric once: the stopped process recorded steps 1...stopped, the resumed one the rest.
        #expect(try Self.stepMetrics(box) == ["item-0000": Array(1...Self.steps), "item-0001": Array(1...Self.steps)])
        #expect(try db.verify(runDirectory: box.runDir) == [])
    }

    /// A journal shard keeps metrics in memory until the item is journaled: the resumed item restores the steps before its
    /// checkpoint, so the merged manifest has each step once.
    @Test func aJournalShardResumesALongItemWithItsMetrics() throws {
        let box = try Sandbox(count: 2)
        let args = ["--item-steps", "\(Self.steps)", "--sleep-ms", "20"]
        #expect(try box.run("produce", args + ["--plan-shards", "1"]).status == 0)
        let (status, stderr) = try Self.interruptMidItem(box, args + ["--shard", "0/1", "--journal"])
        #expect(status == 130, "\(stderr)")
        let stopped = Self.savedStep(box, "item-0000")
        let again = try box.run("produce", args + ["--shard", "0/1", "--journal"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stderr.contains("item-0000: resumed at step \(stopped)"))
        #expect(try box.run("produce", args + ["--merge-shards"]).status == 0)
        #expect(try Self.stepMetrics(box) == ["item-0000": Array(1...Self.steps), "item-0001": Array(1...Self.steps)])
    }

    /// The checkpoints belong to the stage run's fingerprint: after a config change the items start over.
    @Test func anotherConfigNeverResumesFromTheseCheckpoints() throws {
        let box = try Sandbox(count: 1)
        let args = ["--item-steps", "\(Self.steps)", "--sleep-ms", "20"]
        #expect(try Self.interruptMidItem(box, args).0 == 130)
        try box.writeConfig(count: 1, content: "other")
        let again = try box.run("produce", args)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(!again.stderr.contains("resumed at step"))
        #expect(try String(contentsOf: box.artifact("fake-produce", "item-0000.resumed"), encoding: .utf8) == "0\n")
    }

    /// A forced rerun is a new stage run: its items start over, and the finished run's checkpoints are deleted.
    @Test func aForcedRerunStartsOverAndDropsTheOldCheckpoints() throws {
        let box = try Sandbox(count: 1)
        let args = ["--item-steps", "5"]
        #expect(try box.run("produce", args).status == 0)
        let root = box.artifact("fake-produce", "checkpoints")
        let first = try FileManager.default.contentsOfDirectory(atPath: root.path)
        #expect(first.count == 1 && first[0].hasPrefix("1-"))
        let forced = try box.run("produce", args + ["--force"])
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(forced.stderr.contains("removed the item checkpoints of earlier stage runs"))
        #expect(!forced.stderr.contains("resumed at step"))
        #expect(try String(contentsOf: box.artifact("fake-produce", "item-0000.resumed"), encoding: .utf8) == "0\n")
        let second = try FileManager.default.contentsOfDirectory(atPath: root.path)
        #expect(second.count == 1 && second[0].hasPrefix("2-") && second[0].dropFirst(2) == first[0].dropFirst(2))
    }

    @Test func keysBecomeOnePathComponent() {
        #expect(ItemContext.pathComponent("patchdpo-finetuned-s1") == "patchdpo-finetuned-s1")
        #expect(ItemContext.pathComponent("a/b c") == "a%2Fb%20c")
        #expect(ItemContext.pathComponent("..") == "%2E%2E" && ItemContext.pathComponent(".") == "%2E")
        #expect(ItemContext.pathComponent("é") == "%C3%A9")
    }
}
