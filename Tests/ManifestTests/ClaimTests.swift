import Foundation
import Testing
@testable import Manifest

@Suite struct ClaimTests {
    @Test func concurrentClaimersWithSeparateConnectionsNeverShareAnItem() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let setup = try ManifestDB(path: dir.manifestPath)
        let stage = try makeStage(setup)
        let keys = (0..<600).map { "item-\($0)" }
        try setup.addItems(stageRun: stage, keys: keys)

        let workers = 6
        let results = NSLock()
        nonisolated(unsafe) var claimed: [String] = []   // guarded by `results`
        nonisolated(unsafe) var errors: [String] = []    // guarded by `results`
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            do {
                let db = try ManifestDB(path: dir.manifestPath)
                while true {
                    let batch = try db.claim(stageRun: stage, owner: "w\(w)", limit: 3, lease: 3600)
                    if batch.isEmpty { break }
                    for c in batch {
                        let art = NewArtifact(kind: "txt", relativePath: "artifacts/pool/\(c.key).txt",
                                              sha256: SHA256.hex(c.key), bytes: Int64(c.key.utf8.count))
                        try db.complete(c, artifacts: [art])
                    }
                    results.lock(); claimed += batch.map(\.key); results.unlock()
                }
            } catch {
                results.lock(); errors.append("worker \(w): \(error)"); results.unlock()
            }
        }
        #expect(errors.isEmpty, "\(errors)")
        #expect(claimed.count == keys.count, "an item was claimed twice or lost")
        #expect(Set(claimed) == Set(keys))
        #expect(try setup.counts(stageRun: stage) == ItemCounts(done: keys.count))
        #expect(try setup.artifacts(stageRun: stage).count == keys.count)
        #expect(try setup.items(stageRun: stage).allSatisfy { $0.attempts == 1 && $0.token == 1 })
    }

    /// A long item renews its lease: nobody takes it while it renews; once it lapses and another worker claims the item,
    /// the old holder's renewal is refused (`.leaseLost`), so it learns to stop.
    @Test func renewedLeasesKeepAnItemAndALostOneIsRefused() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let clock = FakeClock()
        let db = try ManifestDB(path: dir.manifestPath, clock: clock.closure)
        let stage = try makeStage(db)
        try db.addItems(stageRun: stage, keys: ["a"])
        let held = try #require(try db.claim(stageRun: stage, owner: "long", limit: 1, lease: 30).first)
        for _ in 0..<4 {
            clock.advance(20)
            try db.renew(held, lease: 30)
            #expect(try db.claim(stageRun: stage, owner: "other", limit: 1, lease: 30).isEmpty)
        }
        clock.advance(30)
        let taken = try #require(try db.claim(stageRun: stage, owner: "other", limit: 1, lease: 30).first)
        #expect(taken.token == held.token + 1)
        #expect(throws: ManifestError.self) { try db.renew(held, lease: 30) }
        try db.renew(taken, lease: 30)
    }

    @Test func expiredLeasesReturnItemsAndStaleTokensAreRefused() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let clock = FakeClock()
        let db = try ManifestDB(path: dir.manifestPath, clock: clock.closure)
        let stage = try makeStage(db)
        try db.addItems(stageRun: stage, keys: ["a", "b", "c"])

        let first = try db.claim(stageRun: stage, owner: "slow", limit: 10, lease: 60)
        try #require(first.map(\.key) == ["a", "b", "c"])
        #expect(try db.claim(stageRun: stage, owner: "other", limit: 10, lease: 60).isEmpty)
        clock.advance(59)
        #expect(try db.claim(stageRun: stage, owner: "other", limit: 10, lease: 60).isEmpty)
        clock.advance(1)   // lease_expiry <= now: expired
        let second = try db.claim(stageRun: stage, owner: "fast", limit: 2, lease: 60)
        try #require(second.map(\.key) == ["a", "b"])
        #expect(zip(first, second).allSatisfy { $1.token == $0.token + 1 })

        // The slow worker's stale completion of "a" is refused and records nothing.
        let art = try writeArtifact(dir.url, "artifacts/s/a.txt", "slow")
        do {
            try db.complete(first[0], artifacts: [art])
            Issue.record("stale completion accepted")
        } catch let error as ManifestError {
            #expect(error == .leaseLost(path: dir.manifestPath, item: first[0].item, key: "a", token: first[0].token,
                                        currentToken: second[0].token, status: "running"))
        }
        #expect(throws: ManifestError.self) { try db.fail(first[1], error: "late") }
        #expect(try db.artifacts(stageRun: stage).isEmpty)
        #expect(try db.counts(stageRun: stage) == ItemCounts(running: 3))

        // "c" expired but nobody reclaimed it: its holder may still finish it.
        try db.complete(first[2], artifacts: [])
        try db.complete(second[0], artifacts: [art])
        try db.fail(second[1], error: "bad input")
        #expect(try db.counts(stageRun: stage) == ItemCounts(done: 2, failed: 1))
        #expect(try db.artifacts(stageRun: stage).map(\.item) == [second[0].item])
        let items = try db.items(stageRun: stage)
        #expect(items.map(\.attempts) == [2, 2, 1])
        #expect(items[1].error == "bad input" && items[1].status == .failed)

        // Completing twice is refused (the item is no longer running).
        #expect(throws: ManifestError.self) { try db.complete(second[0], artifacts: []) }
        #expect(try db.retryFailed(stageRun: stage) == 1)
        #expect(try db.claim(stageRun: stage, owner: "x", limit: 5, lease: 1).map(\.key) == ["b"])
    }

    @Test func completionIsAtomicWithItsArtifacts() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let db = try ManifestDB(path: dir.manifestPath)
        let stage = try makeStage(db)
        try db.addItems(stageRun: stage, keys: ["a"])
        let claim = try #require(try db.claim(stageRun: stage, owner: "w", limit: 1, lease: 60).first)
        let good = try writeArtifact(dir.url, "artifacts/s/a.png", "a")
        let bad = NewArtifact(kind: "png", relativePath: "artifacts/s/a.json", sha256: "not-a-hash", bytes: 1)
        #expect {
            try db.complete(claim, artifacts: [good, bad])
        } throws: { error in
            guard case .sqlite(let path, let sql, _, let message) = error as? ManifestError else { return false }
            return path == dir.manifestPath && sql.contains("INSERT INTO artifacts") && message.contains("CHECK")
        }
        // Neither artifact was kept and the item is still held by the same claim.
        #expect(try db.artifacts(stageRun: stage).isEmpty)
        #expect(try db.items(stageRun: stage).map(\.status) == [.running])
        #expect(try db.complete(claim, artifacts: [good]).count == 1)
        #expect(try db.counts(stageRun: stage) == ItemCounts(done: 1))
    }

    @Test func renewKeepsLeasesAndReportsLostOnes() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let clock = FakeClock()
        let db = try ManifestDB(path: dir.manifestPath, clock: clock.closure)
        let stage = try makeStage(db)
        try db.addItems(stageRun: stage, keys: ["a", "b"])
        let mine = try db.claim(stageRun: stage, owner: "me", limit: 1, lease: 10)
        let theirs = try db.claim(stageRun: stage, owner: "them", limit: 1, lease: 10)
        clock.advance(8)
        #expect(try db.renew(mine, lease: 10).isEmpty)
        clock.advance(5)   // mine expires at 18, theirs expired at 10
        #expect(try db.claim(stageRun: stage, owner: "thief", limit: 5, lease: 10).map(\.key) == ["b"])
        #expect(try db.renew(mine + theirs, lease: 10) == theirs)
        #expect(try db.release(mine) == 1)
        #expect(try db.counts(stageRun: stage) == ItemCounts(pending: 1, running: 1))
    }

    @Test func reclaimOrphansReturnsLiveLeasesInScopeAndFencesTheirHolders() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let db = try ManifestDB(path: dir.manifestPath)
        let stage = try makeStage(db)
        let keys = (0..<40).map { "k\($0)" }
        try db.addItems(stageRun: stage, keys: keys)
        let shard = Shard(index: 1, count: 2)
        let crashed = try db.claim(stageRun: stage, owner: "dead", limit: 40, lease: 3600)
        #expect(crashed.count == 40)
        let inShard = crashed.filter { shard.contains($0.key) }
        #expect(try db.reclaimOrphans(stageRun: stage, shard: shard) == inShard.count)
        #expect(try db.counts(stageRun: stage) == ItemCounts(pending: inShard.count, running: 40 - inShard.count))
        // The old holder is fenced even though its lease had not expired.
        #expect(throws: ManifestError.self) { try db.complete(inShard[0], artifacts: []) }
        #expect(try db.reclaimOrphans(stageRun: stage) == 40 - inShard.count)
        let again = try db.claim(stageRun: stage, owner: "new", limit: 40, lease: 10)
        #expect(Set(again.map(\.key)) == Set(keys))
    }

    @Test func shardsPartitionTheItems() throws {
        // Stable FNV-1a 64 vectors (top bit cleared): independent of process and platform.
        #expect(Shard.hash("") == Int64(bitPattern: 0xcbf2_9ce4_8422_2325 & 0x7fff_ffff_ffff_ffff))
        #expect(Shard.hash("a") == 0x2f63_dc4c_8601_ec8c)
        #expect(Shard.hash("foobar") == 0x0594_4171_f739_67e8)

        let dir = try TempDir()
        defer { dir.cleanup() }
        let db = try ManifestDB(path: dir.manifestPath)
        let stage = try makeStage(db)
        let keys = (0..<300).map { "prompt/\($0)" }
        try db.addItems(stageRun: stage, keys: keys)
        let n = 3
        var seen: [String] = []
        for k in 0..<n {
            let shard = Shard(index: k, count: n)
            let got = try db.claim(stageRun: stage, owner: "s\(k)", limit: 1000, lease: 60, shard: shard).map(\.key)
            #expect(got == keys.filter { shard.contains($0) })
            #expect(got.count > 60, "shard \(shard) is badly unbalanced: \(got.count) of 300")
            seen += got
        }
        #expect(seen.count == keys.count && Set(seen) == Set(keys))
    }
    /// A reduce item (bench's results) is never claimed with the others, whatever the shard; `claimReduce` hands it
    /// to exactly one claimer once no other item is pending or running (failed ones count as finished), never takes
    /// it while it runs, and a shard's orphan reclaim leaves it alone while an unsharded one hands it back.
    @Test func reduceItemsWaitForEveryOtherItem() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let db = try ManifestDB(path: dir.manifestPath)
        let stage = try makeStage(db)
        let keys = (0..<6).map { "item-\($0)" }, reduce: Set<String> = ["_results"]
        try db.addItems(stageRun: stage, keys: keys + ["_results"])
        var maps: [Claim] = []
        for k in 0..<2 {
            maps += try db.claim(stageRun: stage, owner: "s\(k)", limit: 100, lease: 60, shard: Shard(index: k, count: 2), excluding: reduce)
        }
        #expect(maps.map(\.key).sorted() == keys, "every map item, never the reduce item")
        #expect(try db.claimReduce(stageRun: stage, owner: "a", lease: 60, keys: reduce) == nil, "map items still running")
        for c in maps.dropLast() { try db.complete(c, artifacts: []) }
        #expect(try db.claimReduce(stageRun: stage, owner: "a", lease: 60, keys: reduce) == nil, "one map item still running")
        try db.fail(maps.last!, error: "boom")
        let r = try #require(try db.claimReduce(stageRun: stage, owner: "a", lease: 60, keys: reduce))
        #expect(r.key == "_results")
        #expect(try db.claimReduce(stageRun: stage, owner: "b", lease: 60, keys: reduce) == nil, "one claimer only")
        #expect(try db.claimReduce(stageRun: stage, owner: "b", lease: 60, keys: []) == nil)
        for k in 0..<2 {
            #expect(try db.reclaimOrphans(stageRun: stage, shard: Shard(index: k, count: 2), excluding: reduce) == 0)
        }
        #expect(try db.reclaimOrphans(stageRun: stage) == 1, "an unsharded run hands it back")
        #expect(throws: ManifestError.self) { try db.complete(r, artifacts: []) }
        let again = try #require(try db.claimReduce(stageRun: stage, owner: "c", lease: 60, keys: reduce))
        try db.complete(again, artifacts: [])
        #expect(try db.counts(stageRun: stage) == ItemCounts(done: 6, failed: 1))
    }
}
