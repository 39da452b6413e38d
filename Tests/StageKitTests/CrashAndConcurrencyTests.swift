import Foundation
import Manifest
import Testing
import TestSupport

/// Every item of the newest `stage` run is done exactly once: one item per expected key, all done,
/// one artifact per item, and `verify` finds nothing wrong.
func expectEachItemDoneOnce(_ box: Sandbox, stage: String, keys: [String],
                            sourceLocation: SourceLocation = #_sourceLocation) throws {
    let db = try ManifestDB(path: box.runDir.appendingPathComponent("manifest.sqlite").path)
    let run = try #require(try db.stageRuns(stage: stage).first, sourceLocation: sourceLocation)
    #expect(run.status == .done, sourceLocation: sourceLocation)
    let items = try db.items(stageRun: run.id)
    #expect(items.map(\.key).sorted() == keys.sorted(), sourceLocation: sourceLocation)
    #expect(items.allSatisfy { $0.status == .done }, sourceLocation: sourceLocation)
    let artifacts = try db.artifacts(stageRun: run.id)
    #expect(artifacts.count == keys.count, sourceLocation: sourceLocation)
    #expect(Set(artifacts.compactMap(\.item)) == Set(items.map(\.id)), sourceLocation: sourceLocation)
    #expect(try db.verify(runDirectory: box.runDir) == [], sourceLocation: sourceLocation)
}

func keys(_ n: Int) -> [String] { (0..<n).map { "item-" + String(format: "%04d", $0) } }

@Test func killMinus9TwentyTimesThenResumeDoesEveryItemOnce() throws {
    // 150 items x 10 ms: no single run can finish before its kill (at most ~10 items per run),
    // so every kill lands mid-run: even iterations during start-up (planning, claiming),
    // odd ones at a random point after the item loop started.
    let box = try Sandbox(count: 150)
    var rng = TestRNG(state: 42)   // the plain SplitMix64 sequence of 42: reproducible kill delays
    var killed = 0
    for i in 0..<20 {
        let p = try box.spawn("produce", ["--sleep-ms", "10"])
        if i % 2 == 1 { _ = p.waitForStderr("item(s) to do") }
        usleep(UInt32.random(in: 0...(i % 2 == 1 ? 100_000 : 80_000), using: &rng))
        p.signal(SIGKILL)
        let status = p.wait()
        if status == 128 + SIGKILL { killed += 1 } else { #expect(status == 0, "exit \(status): \(p.stderr)") }
    }
    #expect(killed >= 18)   // the runs were really killed mid-way
    do {
        let db = try ManifestDB(path: box.runDir.appendingPathComponent("manifest.sqlite").path)
        let run = try #require(try db.stageRuns(stage: "fake-produce").first)
        let done = try db.counts(stageRun: run.id).done
        #expect(done > 0 && done < 150)
    }
    let final = try box.run("produce")
    #expect(final.status == 0, "\(final.stderr)")
    try expectEachItemDoneOnce(box, stage: "fake-produce", keys: keys(150))
    // Some item was killed in flight and redone after its lease expired: attempts > 1, yet done once.
    let db = try ManifestDB(path: box.runDir.appendingPathComponent("manifest.sqlite").path)
    #expect(try db.items(stageRun: try db.stageRuns(stage: "fake-produce")[0].id).contains { $0.attempts > 1 })
    // Contents are right, and no temporaries are left behind.
    #expect(try String(contentsOf: box.artifact("fake-produce", "item-0007.txt"), encoding: .utf8) == "hello item-0007 seed=1\n")
    let leftovers = try FileManager.default.contentsOfDirectory(atPath: box.artifact("fake-produce", "").path)
        .filter { $0.hasPrefix(".") }
    #expect(leftovers == [])
}

@Test func sigtermFinishesTheItemMarksInterruptedAndPrintsResumeCommand() throws {
    let box = try Sandbox(count: 30)
    let p = try box.spawn("produce", ["--sleep-ms", "40"])
    #expect(p.waitForStderr("item(s) to do"))
    usleep(150_000)
    p.signal(SIGTERM)
    #expect(p.wait() == 130)
    #expect(p.stderr.contains("interrupted by signal \(SIGTERM)"))
    #expect(p.stderr.contains("resume with: \(Tool.url("fake-stage").path) produce --config \(box.config.path)"))
    #expect(p.stdout.contains("fake-produce: done "))
    let db = try ManifestDB(path: box.runDir.appendingPathComponent("manifest.sqlite").path)
    let run = try #require(try db.stageRuns(stage: "fake-produce").first)
    #expect(run.status == .interrupted)
    let c = try db.counts(stageRun: run.id)
    #expect(c.running == 0 && c.done > 0 && c.pending > 0)   // the item in flight was finished, not abandoned
    let again = try box.run("produce")
    #expect(again.status == 0)
    #expect(again.stderr.contains("resuming stage run \(run.id) (interrupted)"))
    #expect(again.stdout.contains("skipped \(c.done)"))
    try expectEachItemDoneOnce(box, stage: "fake-produce", keys: keys(30))
}

@Test func twoShardsRunTogetherAndSplitTheWork() throws {
    let box = try Sandbox(count: 40)
    let a = try box.spawn("produce", ["--shard", "0/2", "--sleep-ms", "10"])
    let b = try box.spawn("produce", ["--shard", "1/2", "--sleep-ms", "10"])
    #expect(a.wait() == 0, "\(a.stderr)")
    #expect(b.wait() == 0, "\(b.stderr)")
    try expectEachItemDoneOnce(box, stage: "fake-produce", keys: keys(40))
    let db = try ManifestDB(path: box.runDir.appendingPathComponent("manifest.sqlite").path)
    #expect(try db.stageRuns(stage: "fake-produce").count == 1)            // both shards joined one stage run
    let items = try db.items(stageRun: try db.stageRuns(stage: "fake-produce")[0].id)
    #expect(items.allSatisfy { $0.attempts == 1 })                       // nothing done twice
    let doneA = Int(a.stdout.split(separator: " ")[2].dropLast())!, doneB = Int(b.stdout.split(separator: " ")[2].dropLast())!
    #expect(doneA + doneB == 40 && doneA > 0 && doneB > 0)
}

/// A reduce item (`--reduce`: `_summary` counts the item files) runs once, after every other item, in whichever shard
/// finishes last: together, both shards exit 0 and the summary sees all 40 files; one after the other, the first
/// shard leaves the stage unfinished without a summary and the second one writes it and finishes the stage.
@Test func theReduceItemRunsOnceAfterEveryShard() throws {
    let box = try Sandbox(count: 40)
    let a = try box.spawn("produce", ["--shard", "0/2", "--sleep-ms", "10", "--reduce"])
    let b = try box.spawn("produce", ["--shard", "1/2", "--sleep-ms", "30", "--reduce"])
    #expect(a.wait() == 0, "\(a.stderr)")
    #expect(b.wait() == 0, "\(b.stderr)")
    try expectEachItemDoneOnce(box, stage: "fake-produce", keys: keys(40) + ["_summary"])
    #expect(try String(contentsOf: box.artifact("fake-produce", "_summary.txt"), encoding: .utf8) == "summary 40\n")
    let db = try ManifestDB(path: box.runDir.appendingPathComponent("manifest.sqlite").path)
    #expect(try db.items(stageRun: try db.stageRuns(stage: "fake-produce")[0].id).allSatisfy { $0.attempts == 1 })

    let box2 = try Sandbox(count: 40)
    let first = try box2.run("produce", ["--shard", "0/2", "--reduce"])
    #expect(first.status == 0, "\(first.stderr)")
    #expect(first.stderr.contains("remain for other shards"))
    #expect(!FileManager.default.fileExists(atPath: box2.artifact("fake-produce", "_summary.txt").path))
    let second = try box2.run("produce", ["--shard", "1/2", "--reduce"])
    #expect(second.status == 0, "\(second.stderr)")
    try expectEachItemDoneOnce(box2, stage: "fake-produce", keys: keys(40) + ["_summary"])
    #expect(try String(contentsOf: box2.artifact("fake-produce", "_summary.txt"), encoding: .utf8) == "summary 40\n")
}

@Test func secondUnshardedRunExitsBusyAndSameShardTwiceToo() throws {
    // Long enough (40 x 60 ms) that the first run is still busy while a slow machine starts the others.
    let box = try Sandbox(count: 40)
    let first = try box.spawn("produce", ["--sleep-ms", "60"])
    #expect(first.waitForStderr("item(s) to do"))
    let second = try box.run("produce")
    #expect(second.status == 75)
    #expect(second.stderr.contains("busy") && second.stderr.contains("locks/fake-produce.lock"))
    let shard = try box.run("produce", ["--shard", "0/2"])               // shards exclude an unsharded run
    #expect(shard.status == 75)
    #expect(first.wait() == 0)
    try expectEachItemDoneOnce(box, stage: "fake-produce", keys: keys(40))

    let box2 = try Sandbox(count: 40)
    let s0 = try box2.spawn("produce", ["--shard", "0/2", "--sleep-ms", "60"])
    #expect(s0.waitForStderr("item(s) to do"))
    let again = try box2.run("produce", ["--shard", "0/2"])
    #expect(again.status == 75)
    #expect(again.stderr.contains("fake-produce.shard-0-of-2.lock"))
    #expect(s0.wait() == 0)
}
