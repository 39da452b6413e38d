import Foundation
import Manifest
import Testing
import TestSupport
@testable import StageKit

/// Journal mode (docs/SHARDING.md) through the fake stages: `--plan-shards N`, `--shard k/N --journal`, `--merge-shards`.
@Suite struct ShardJournalModeTests {
    /// The manifest's bytes (the file and its WAL): a journal shard must not change them.
    static func manifestBytes(_ box: Sandbox) -> [Data?] {
        ["manifest.sqlite", "manifest.sqlite-wal"].map { FileManager.default.contents(atPath: box.runDir.appendingPathComponent($0).path) }
    }

    static func manifest(_ box: Sandbox) throws -> ManifestDB {
        try ManifestDB(path: box.runDir.appendingPathComponent("manifest.sqlite").path, mode: .readOnly)
    }

    /// Every row a merge may touch, for before/after comparisons.
    static func state(_ box: Sandbox, stage: String) throws -> String {
        let db = try manifest(box)
        let run = try #require(try db.stageRuns(stage: stage).first)
        return "\(run)\n\(try db.items(stageRun: run.id))\n\(try db.artifacts(stageRun: run.id))\n\(try db.events(stageRun: run.id))"
    }

    /// (path, sha256) of the newest run of `stage`'s artifacts.
    static func outputs(_ box: Sandbox, stage: String) throws -> [String: String] {
        let db = try manifest(box)
        let run = try #require(try db.stageRuns(stage: stage).first)
        return Dictionary(uniqueKeysWithValues: try db.artifacts(stageRun: run.id).map { ($0.relativePath, $0.sha256) })
    }

    /// Plans `stage` for `n` journal shards, runs them together, checks they left the manifest alone, merges.
    static func runJournaled(_ box: Sandbox, _ stage: String, shards n: Int,
                             sourceLocation: SourceLocation = #_sourceLocation) throws {
        let plan = try box.run(stage, ["--plan-shards", "\(n)"])
        #expect(plan.status == 0, "\(plan.stderr)", sourceLocation: sourceLocation)
        let before = manifestBytes(box)
        let shards = try (0..<n).map { try box.spawn(stage, ["--shard", "\($0)/\(n)", "--journal"]) }
        for s in shards { #expect(s.wait() == 0, "\(s.stderr)", sourceLocation: sourceLocation) }
        #expect(manifestBytes(box) == before, "a journal shard changed the manifest", sourceLocation: sourceLocation)
        let merge = try box.run(stage, ["--merge-shards"])
        #expect(merge.status == 0, "\(merge.stderr)", sourceLocation: sourceLocation)
    }

    @Test func threeJournalShardsDoEveryItemOnceAndMatchAnUnshardedRun() throws {
        let plain = try Sandbox(count: 30)
        for stage in ["produce", "consume"] { #expect(try plain.run(stage).status == 0) }
        let box = try Sandbox(count: 30)
        try Self.runJournaled(box, "produce", shards: 3)
        try Self.runJournaled(box, "consume", shards: 3)   // reads its upstream from the plan, not the manifest
        try expectEachItemDoneOnce(box, stage: "fake-produce", keys: keys(30))
        try expectEachItemDoneOnce(box, stage: "fake-consume", keys: keys(30).map { $0 + ".txt" })
        for stage in ["fake-produce", "fake-consume"] {
            #expect(try Self.outputs(box, stage: stage) == (try Self.outputs(plain, stage: stage)))
            let db = try Self.manifest(box)
            #expect(try db.items(stageRun: try db.stageRuns(stage: stage)[0].id).allSatisfy { $0.attempts == 1 })
        }
        // The merged stage runs are up to date for an unsharded run.
        #expect(try box.run("consume").stdout.contains("(up to date)"))
    }

    @Test func mergingTwiceChangesNothing() throws {
        let box = try Sandbox(count: 20)
        try Self.runJournaled(box, "produce", shards: 3)
        let once = try Self.state(box, stage: "fake-produce")
        let again = try box.run("produce", ["--merge-shards"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.contains("done 0, skipped 20, failed 0"))
        #expect(try Self.state(box, stage: "fake-produce") == once)
    }

    @Test func aShardOrJournalOfAnotherFingerprintIsRefused() throws {
        let box = try Sandbox(count: 20)
        #expect(try box.run("produce", ["--plan-shards", "2"]).status == 0)
        let planned = try #require(try Self.manifest(box).stageRuns(stage: "fake-produce").first)
        // A shard run with another config is refused before it runs anything.
        let other = try box.run("produce", ["--shard", "1/2", "--journal", "--set", "content=other"])
        #expect(other.status == 65)
        #expect(other.stderr.contains("shards/fake-produce/plan.sqlite") && other.stderr.contains(planned.fingerprint))
        #expect(!FileManager.default.fileExists(atPath: box.runDir.appendingPathComponent("shards/fake-produce/1-of-2.sqlite").path))
        // A journal of another fingerprint (another plan's) is refused by the merge, which merges nothing.
        #expect(try box.run("produce", ["--shard", "0/2", "--journal"]).status == 0)
        let stray = box.runDir.appendingPathComponent("shards/fake-produce/1-of-2.sqlite")
        _ = try ShardJournal(path: stray.path, creating: .init(stage: "fake-produce", stageRun: planned.id,
                                                               fingerprint: String(repeating: "0", count: 64), shard: Shard(index: 1, count: 2)))
        let before = try Self.state(box, stage: "fake-produce")
        let merge = try box.run("produce", ["--merge-shards"])
        #expect(merge.status == 65)
        for part in [stray.path, "fingerprint is " + String(repeating: "0", count: 64), planned.fingerprint, "hint: "] {
            #expect(merge.stderr.contains(part), "\(part) not in: \(merge.stderr)")
        }
        #expect(try Self.state(box, stage: "fake-produce") == before)
    }

    /// A shard killed by SIGKILL mid-run leaves an unfinished journal: the merge takes its finished items and leaves the
    /// rest pending; the shard's rerun does only the rest, and the next merge finishes the stage run.
    @Test func aKilledShardMergesItsFinishedItemsAndItsRerunDoesTheRest() throws {
        let box = try Sandbox(count: 30)
        #expect(try box.run("produce", ["--plan-shards", "3"]).status == 0)
        for k in [0, 2] { #expect(try box.run("produce", ["--shard", "\(k)/3", "--journal"]).status == 0) }
        let victim = try box.spawn("produce", ["--shard", "1/3", "--journal", "--sleep-ms", "150"])
        let journal = box.runDir.appendingPathComponent("shards/fake-produce/1-of-3.sqlite")
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, ((try? ShardJournal(path: journal.path).entries().count) ?? 0) < 2 { usleep(20_000) }
        victim.signal(SIGKILL)
        #expect(victim.wait() == 128 + SIGKILL)
        let journaled = try ShardJournal(path: journal.path)
        #expect(try !journaled.isComplete())
        let finished = try journaled.entries().count
        let inShard = keys(30).filter { Shard(index: 1, count: 3).contains($0) }.count
        #expect(finished >= 2 && finished < inShard, "\(finished) of \(inShard)")

        let merge = try box.run("produce", ["--merge-shards"])
        #expect(merge.status == 0, "\(merge.stderr)")
        #expect(merge.stderr.contains("1-of-3.sqlite is unfinished") && merge.stderr.contains("--shard 1/3 --journal"))
        let db = try Self.manifest(box)
        let run = try #require(try db.stageRuns(stage: "fake-produce").first)
        #expect(try db.counts(stageRun: run.id) == ItemCounts(pending: inShard - finished, done: 30 - inShard + finished))
        #expect(run.status == .running)

        let rerun = try box.run("produce", ["--shard", "1/3", "--journal"])
        #expect(rerun.status == 0, "\(rerun.stderr)")
        #expect(rerun.stdout.contains("done \(inShard - finished), skipped \(finished),"), "\(rerun.stdout)")
        #expect(try box.run("produce", ["--merge-shards"]).status == 0)
        try expectEachItemDoneOnce(box, stage: "fake-produce", keys: keys(30))
    }

    /// No shard runs a reduce item (it needs every other item): the merge leaves it pending and a run without --shard
    /// does only it.
    @Test func aReduceItemIsLeftToARunWithoutShardAfterTheMerge() throws {
        let box = try Sandbox(count: 20)
        #expect(try box.run("produce", ["--plan-shards", "2", "--reduce"]).status == 0)
        for k in 0..<2 { #expect(try box.run("produce", ["--shard", "\(k)/2", "--journal", "--reduce"]).status == 0) }
        let merge = try box.run("produce", ["--merge-shards", "--reduce"])
        #expect(merge.status == 0 && merge.stderr.contains("1 item(s) of stage run 1 still pending"), "\(merge.stderr)")
        let reduce = try box.run("produce", ["--reduce"])
        #expect(reduce.status == 0 && reduce.stdout.contains("done 1, skipped 20"), "\(reduce.stdout)")
        try expectEachItemDoneOnce(box, stage: "fake-produce", keys: keys(20) + ["_summary"])
        #expect(try String(contentsOf: box.artifact("fake-produce", "_summary.txt"), encoding: .utf8) == "summary 20\n")
    }

    /// Planning a new stage run (the config changed) deletes the journals of the old one, which could never merge
    /// into it; the new shards and merge then give the new outputs.
    @Test func planningANewStageRunDropsTheOldJournals() throws {
        let box = try Sandbox(count: 10)
        try Self.runJournaled(box, "produce", shards: 2)
        try box.writeConfig(count: 10, content: "changed")
        let plan = try box.run("produce", ["--plan-shards", "2"])
        #expect(plan.status == 0 && plan.stderr.contains("removing shard journal") && plan.stderr.contains("of stage run 1"),
                "\(plan.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: box.runDir.appendingPathComponent("shards/fake-produce").path)
                == ["plan.sqlite"])
        try Self.runJournaled(box, "produce", shards: 2)
        try expectEachItemDoneOnce(box, stage: "fake-produce", keys: keys(10))
        #expect(try String(contentsOf: box.artifact("fake-produce", "item-0003.txt"), encoding: .utf8) == "changed item-0003 seed=1\n")
    }

    @Test func theStepsAreRefusedOutOfOrder() throws {
        let box = try Sandbox(count: 4)
        let noPlan = try box.run("produce", ["--shard", "0/2", "--journal"])
        #expect(noPlan.status == 66 && noPlan.stderr.contains("--plan-shards N"))
        let noRun = try box.run("produce", ["--merge-shards"])
        #expect(noRun.status == 66 && noRun.stderr.contains("--plan-shards N"))
        for args in [["--journal"], ["--shard", "0/2", "--plan-shards", "2"], ["--merge-shards", "--plan-shards", "2"],
                     ["--plan-shards", "0"]] {
            #expect(try box.run("produce", args).status == 64, "\(args)")
        }
        // A whole stage (no items) refuses the journal steps like --shard.
        #expect(StageError.shardUnsupported(stage: "s").exitCode == .usage)
    }

    /// Journal mode goes on without a lock on a file system that does not do flock, never without one that is held.
    @Test func onlyAFileSystemWithoutFlockLetsJournalModeGoOnUnlocked() {
        #expect(StageLocks.unsupported(ENOLCK) && StageLocks.unsupported(EOPNOTSUPP))
        #expect(!StageLocks.unsupported(EWOULDBLOCK) && !StageLocks.unsupported(EINTR) && !StageLocks.unsupported(EACCES))
    }
}
