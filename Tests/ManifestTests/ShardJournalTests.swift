import Foundation
import Testing
@testable import Manifest

/// Shard journals and their merge into the manifest (docs/SHARDING.md), without the stage machinery.
@Suite struct ShardJournalTests {
    /// A manifest with a stage run of `keys`, and a journal of shard `shard` of it at `<dir>/shards/<k>-of-<N>.sqlite`.
    struct Setup {
        let dir: TempDir
        let db: ManifestDB
        let stageRun: Int64
        var shardsDir: URL { dir.url.appendingPathComponent("shards/generate-pool") }

        init(keys: [String]) throws {
            dir = try TempDir()
            db = try ManifestDB(path: dir.manifestPath)
            stageRun = try makeStage(db)
            try db.addItems(stageRun: stageRun, keys: keys)
        }

        func journal(_ shard: Shard, fingerprint: String = "fp-generate-pool") throws -> ShardJournal {
            try ShardJournal(path: shardsDir.appendingPathComponent(ShardJournal.fileName(shard)).path, creating: .init(
                stage: "generate-pool", stageRun: stageRun, fingerprint: fingerprint, shard: shard))
        }

        /// Does `key` in `journal`: writes its file under the run directory and records it done.
        func finish(_ key: String, in journal: ShardJournal) throws {
            let item = try #require(try db.items(stageRun: stageRun).first { $0.key == key })
            let a = try writeArtifact(dir.url, "artifacts/generate-pool/\(key).png", "image \(key)")
            try journal.recordDone(key: key, item: item.id, artifacts: [a],
                                   metrics: [.init(name: "score", step: Int(item.id), value: key == "k3" ? .nan : Double(item.id) / 2)])
        }

        var journals: [URL] {
            ((try? FileManager.default.contentsOfDirectory(atPath: shardsDir.path)) ?? []).sorted()
                .filter { $0.hasSuffix(".sqlite") }.map { shardsDir.appendingPathComponent($0) }
        }

        func merge() throws -> ShardMergeReport {
            try db.mergeShardJournals(journals, stageRun: stageRun, runDirectory: dir.url)
        }

        /// Every row the merge may touch, for before/after comparisons.
        func state() throws -> String {
            "\(try db.stageRun(id: stageRun))\n\(try db.items(stageRun: stageRun))\n\(try db.artifacts(stageRun: stageRun))\n"
                + "\(try db.events(stageRun: stageRun))\n\(try db.metrics(stageRun: stageRun).map { "\($0.name) \($0.step) \($0.value) \($0.time)" })"
        }
    }

    static let keys = (0..<12).map { "k\($0)" }

    @Test func mergesEveryShardOnceAndTwiceChangesNothing() throws {
        let s = try Setup(keys: Self.keys)
        defer { s.dir.cleanup() }
        for k in 0..<3 {
            let shard = Shard(index: k, count: 3)
            let j = try s.journal(shard)
            for key in Self.keys where shard.contains(key) { try s.finish(key, in: j) }
            try j.markComplete(done: Self.keys.filter(shard.contains).count, failed: 0)
        }
        let report = try s.merge()
        #expect(report.merged == 12 && report.alreadyDone == 0 && report.incomplete == [])
        #expect(try s.db.stageRun(id: s.stageRun).status == .done)
        let items = try s.db.items(stageRun: s.stageRun)
        #expect(items.allSatisfy { $0.status == .done && $0.attempts == 1 })
        #expect(Set(try s.db.artifacts(stageRun: s.stageRun).compactMap(\.item)) == Set(items.map(\.id)))
        #expect(try s.db.verify(runDirectory: s.dir.url) == [])
        let metrics = try s.db.metrics(stageRun: s.stageRun)   // each item's metric, merged with it (NaN stays NaN)
        #expect(metrics.count == 12 && metrics.filter { $0.value.isNaN }.count == 1)
        #expect(metrics.first { $0.step == 2 }?.value == 1.0)
        let once = try s.state()
        let again = try s.merge()
        #expect(again.merged == 0 && again.alreadyDone == 12)
        #expect(try s.state() == once)
    }

    @Test func refusesAJournalOfAnotherFingerprintNamingTheFile() throws {
        let s = try Setup(keys: Self.keys)
        defer { s.dir.cleanup() }
        let good = try s.journal(Shard(index: 0, count: 2))
        try s.finish(Self.keys.first { Shard(index: 0, count: 2).contains($0) }!, in: good)
        let bad = try s.journal(Shard(index: 1, count: 2), fingerprint: "fp-other-config")
        try s.finish(Self.keys.first { Shard(index: 1, count: 2).contains($0) }!, in: bad)
        let before = try s.state()
        let path = s.shardsDir.appendingPathComponent("1-of-2.sqlite").path
        #expect(throws: ManifestError.journalMismatch(path: path, what: "fingerprint", expected: "fp-generate-pool",
                                                      found: "fp-other-config")) { try s.merge() }
        #expect(try s.state() == before)   // nothing merged, not even the good journal
        let text = "\(ManifestError.journalMismatch(path: path, what: "fingerprint", expected: "a", found: "b"))"
        #expect(text.contains(path) && text.contains("hint:"))
        #expect(ManifestError.journalMismatch(path: path, what: "fingerprint", expected: "a", found: "b").errorKind == .badData)
        // A worker reopening that journal for the planned stage run is refused the same way.
        #expect(throws: ManifestError.self) { _ = try s.journal(Shard(index: 1, count: 2)) }
    }

    @Test func refusesAJournaledArtifactThatIsMissingOrEdited() throws {
        let s = try Setup(keys: Self.keys)
        defer { s.dir.cleanup() }
        let j = try s.journal(Shard(index: 0, count: 1))
        try s.finish("k0", in: j)
        try s.finish("k1", in: j)
        let edited = s.dir.url.appendingPathComponent("artifacts/generate-pool/k1.png")
        try Data("image k9".utf8).write(to: edited)   // same size, other bytes
        let before = try s.state()
        #expect { try s.merge() } throws: { e in
            guard case let ManifestError.journalArtifactUnverified(journal, problem) = e else { return false }
            return journal.hasSuffix("0-of-1.sqlite") && problem.contains(edited.path) && problem.contains("sha256")
        }
        try FileManager.default.removeItem(at: edited)
        #expect { try s.merge() } throws: { e in "\(e)".contains("missing") }
        #expect(try s.state() == before)
    }

    /// A shard killed mid-run leaves a journal without its `complete` row: its finished items merge, the rest stay
    /// pending; the rerun of the shard journals the rest, and a second merge finishes the stage run.
    @Test func anUnfinishedJournalMergesItsFinishedItemsAndItsRerunTheRest() throws {
        let s = try Setup(keys: Self.keys)
        defer { s.dir.cleanup() }
        let shard = Shard(index: 0, count: 1)
        let first = try s.journal(shard)
        for key in Self.keys.prefix(5) { try s.finish(key, in: first) }
        try first.recordFailure(key: "k5", item: try s.db.items(stageRun: s.stageRun)[5].id, error: "boom")
        let report = try s.merge()
        #expect(report.merged == 5 && report.failed == 1 && report.incomplete.count == 1)
        #expect(try s.db.counts(stageRun: s.stageRun) == ItemCounts(pending: 6, done: 5, failed: 1))
        #expect(try s.db.stageRun(id: s.stageRun).status == .running)
        // The rerun reopens the same journal (same header), retries the failure and does the rest.
        let rerun = try s.journal(shard)
        try rerun.markRunning()
        for key in Self.keys.dropFirst(5) { try s.finish(key, in: rerun) }
        try rerun.markComplete(done: 12, failed: 0)
        #expect(try rerun.entries().first { $0.key == "k5" }?.attempts == 2)
        let second = try s.merge()
        #expect(second.merged == 7 && second.alreadyDone == 5 && second.incomplete == [])
        #expect(try s.db.counts(stageRun: s.stageRun) == ItemCounts(done: 12))
        #expect(try s.db.stageRun(id: s.stageRun).status == .done)
        #expect(try s.db.artifacts(stageRun: s.stageRun).count == 12)
    }

    /// A transaction the shard has not committed (its process may die in it) is not seen by the merge: only whole
    /// items are. (A process killed while writing leaves a hot -journal file, which SQLite rolls back on the merge's
    /// open; the kill test of StageKitTests goes through that.)
    @Test func anUncommittedItemIsNotSeen() throws {
        let s = try Setup(keys: Self.keys)
        defer { s.dir.cleanup() }
        let j = try s.journal(Shard(index: 0, count: 1))
        try s.finish("k0", in: j)
        // An open write transaction, never committed (as if the process died in it): not visible to a reader.
        try j.db.exec("BEGIN IMMEDIATE")
        try j.db.run("INSERT INTO items(key, item, status, attempts, finished) VALUES ('k1', 2, 'done', 1, 0)")
        let reader = try ShardJournal(path: j.path)
        #expect(try reader.entries().map(\.key) == ["k0"])
        try j.db.exec("ROLLBACK")
    }

    @Test func journalFileNamesNameTheirShard() {
        #expect(ShardJournal.fileName(Shard(index: 2, count: 3)) == "2-of-3.sqlite")
        #expect(ShardJournal.shard(fileName: "2-of-3.sqlite") == Shard(index: 2, count: 3))
        for bad in ["plan.sqlite", "3-of-3.sqlite", "2-of-3.sqlite-journal", "a-of-3.sqlite", ".atomicwrite-1-x-plan.sqlite"] {
            #expect(ShardJournal.shard(fileName: bad) == nil, "\(bad)")
        }
    }

    /// The plan: a snapshot a reader opens immutable, read-only, in rollback-journal mode.
    @Test func aSnapshotReadsLikeTheManifestAndRefusesWrites() throws {
        let s = try Setup(keys: Self.keys)
        defer { s.dir.cleanup() }
        let url = s.dir.url.appendingPathComponent("shards/generate-pool/plan.sqlite")
        try s.db.writeSnapshot(to: url)
        let plan = try ManifestDB(path: url.path, mode: .snapshot)
        #expect(try plan.items(stageRun: s.stageRun) == (try s.db.items(stageRun: s.stageRun)))
        #expect(try plan.db.query("PRAGMA journal_mode") { $0.text(0) } == ["delete"])
        #expect(throws: ManifestError.self) { try plan.addItems(stageRun: s.stageRun, keys: ["new"]) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: url.deletingLastPathComponent().path) == ["plan.sqlite"])
    }
}
