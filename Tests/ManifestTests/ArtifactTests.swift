import Foundation
import Testing
@testable import Manifest

@Suite struct ArtifactTests {
    @Test func verifyFindsMissingEditedAndTruncatedFiles() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let db = try ManifestDB(path: dir.manifestPath)
        let stage = try makeStage(db)
        let names = ["ok", "missing", "edited", "truncated"]
        let arts = try names.map { try writeArtifact(dir.url, "artifacts/s/\($0).txt", "contents of \($0)") }
        try db.recordArtifacts(stageRun: stage, arts)
        #expect(try db.verify(runDirectory: dir.url).isEmpty)

        let url = { (name: String) in dir.url.appendingPathComponent("artifacts/s/\(name).txt") }
        try FileManager.default.removeItem(at: url("missing"))
        try Data("contents of EDITED".utf8).write(to: url("edited"))          // same size, other bytes
        try Data("contents".utf8).write(to: url("truncated"))
        let problems = try db.verify(runDirectory: dir.url)
        #expect(problems.map(\.artifact.relativePath) == ["artifacts/s/edited.txt", "artifacts/s/missing.txt",
                                                          "artifacts/s/truncated.txt"])
        #expect(problems.map(\.kind) == [
            .hashMismatch(recorded: arts[2].sha256, actual: SHA256.hex("contents of EDITED")),
            .missing,
            .sizeMismatch(recorded: arts[3].bytes, actual: 8),
        ])
        #expect(problems[1].description.contains("artifacts/s/missing.txt"))
    }

    @Test func newerRecordOfAPathSupersedesTheOlder() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let db = try ManifestDB(path: dir.manifestPath)
        let first = try makeStage(db)
        try db.recordArtifacts(stageRun: first, [try writeArtifact(dir.url, "artifacts/s/x.txt", "old")])
        let second = try makeStage(db)
        let newer = try writeArtifact(dir.url, "artifacts/s/x.txt", "newer")
        try db.recordArtifacts(stageRun: second, [newer])
        #expect(try db.artifact(path: "artifacts/s/x.txt")?.stageRun == second)
        #expect(try db.artifact(path: "artifacts/s/x.txt")?.sha256 == newer.sha256)
        #expect(try db.verify(runDirectory: dir.url).isEmpty)
        #expect(try db.artifact(path: "artifacts/s/none") == nil)
    }

    /// Within one stage run too: a later item that rewrites a path (the bench's results item appended to a finished
    /// run) leaves only its record in the run's artifacts, so the run still verifies.
    @Test func aRewrittenPathInOneStageRunListsOnlyItsNewestRecord() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let db = try ManifestDB(path: dir.manifestPath)
        let run = try makeStage(db)
        let other = try writeArtifact(dir.url, "artifacts/s/other.txt", "other")
        try db.recordArtifacts(stageRun: run, [try writeArtifact(dir.url, "artifacts/s/results.json", "old"), other])
        let newer = try writeArtifact(dir.url, "artifacts/s/results.json", "newer")
        try db.recordArtifacts(stageRun: run, [newer])
        let listed = try db.artifacts(stageRun: run)
        #expect(listed.map(\.relativePath) == ["artifacts/s/other.txt", "artifacts/s/results.json"])
        #expect(listed.last?.sha256 == newer.sha256)
        #expect(try db.verify(runDirectory: dir.url).isEmpty)
    }

    @Test func lineageVisitsEachUpstreamStageRunOnce() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let db = try ManifestDB(path: dir.manifestPath)
        let pool = try makeStage(db, stage: "generate-pool")
        try db.addItems(stageRun: pool, keys: ["p1"])
        let claim = try #require(try db.claim(stageRun: pool, owner: "w", limit: 1, lease: 60).first)
        let image = try db.complete(claim, artifacts: [try writeArtifact(dir.url, "artifacts/pool/p1.png", "img")])
        let table = try db.recordArtifacts(stageRun: pool, [try writeArtifact(dir.url, "artifacts/pool/index.csv", "p1")])

        let pairs = try makeStage(db, stage: "score-and-pair", inputs: image + table)
        let pairFile = try db.recordArtifacts(stageRun: pairs, [try writeArtifact(dir.url, "artifacts/pairs/p.json", "{}")])
        let maps = try makeStage(db, stage: "patch-quality", inputs: pairFile + image)
        let map = try db.recordArtifacts(stageRun: maps, [try writeArtifact(dir.url, "artifacts/maps/m.bin", "m")])

        let g = try db.lineage(artifact: map[0])
        #expect(g.root.record.relativePath == "artifacts/maps/m.bin" && g.root.itemKey == nil)
        // generate-pool is read by both later stages but appears once, at the level it is first reached.
        #expect(g.stageRuns.map(\.record.stage) == ["patch-quality", "generate-pool", "score-and-pair"])
        #expect(g.stageRuns.map(\.level) == [0, 1, 1])
        try #require(g.stageRuns[0].inputs?.map(\.record.relativePath) == ["artifacts/pool/p1.png", "artifacts/pairs/p.json"])
        #expect(g.stageRuns[0].inputs?[0].itemKey == "p1")
        #expect(g.stageRuns[1].inputs == [])
        #expect(g.stageRuns[2].inputs?.map(\.record.relativePath) == ["artifacts/pool/p1.png", "artifacts/pool/index.csv"])
        #expect(try db.inputs(stageRun: maps).map(\.id) == [image[0], pairFile[0]])

        // depth 1 follows the producer's reads only; depth 0 not even those.
        let one = try db.lineage(artifact: map[0], depth: 1)
        #expect(one.stageRuns.map(\.record.stage) == ["patch-quality", "generate-pool", "score-and-pair"])
        #expect(one.stageRuns.map { $0.inputs == nil } == [false, true, true])
        #expect(try db.lineage(artifact: map[0], depth: 0).stageRuns.map { $0.inputs == nil } == [true])
        #expect(throws: ManifestError.notFound(path: dir.manifestPath, what: "artifact", id: 999)) {
            _ = try db.lineage(artifact: 999)
        }
    }

    @Test func metricsAndEventsRoundTrip() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let clock = FakeClock(500)
        let db = try ManifestDB(path: dir.manifestPath, clock: clock.closure)
        let a = try makeStage(db, stage: "dpo-train")
        let b = try makeStage(db, stage: "bench")
        try db.recordMetric(stageRun: a, name: "loss", step: 2, value: 0.25)
        try db.recordMetric(stageRun: a, name: "loss", step: 1, value: .nan)
        try db.recordMetric(stageRun: b, name: "clip-i", step: 0, value: -.infinity)
        let ma = try db.metrics(stageRun: a)
        try #require(ma.map(\.step) == [1, 2])
        #expect(ma[0].value.isNaN && ma[1].value == 0.25)
        #expect(try db.metrics(stageRun: nil).count == 3)
        #expect(try db.metrics(stageRun: b).first?.value == -.infinity)
        try db.event(stageRun: nil, level: "info", message: "start")
        try db.event(stageRun: a, level: "warn", message: "slow step")
        #expect(try db.events(stageRun: a) == [EventRecord(time: 500, stageRun: a, level: "warn", message: "slow step")])
        #expect(try db.events(stageRun: nil).map(\.message) == ["start", "slow step"])
    }
}

@Suite struct AtomicWriteTests {
    @Test func writesReplacesAndLeavesNoTemporaries() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let url = dir.url.appendingPathComponent("a/b/c.bin")
        try AtomicWrite.write(Data([1, 2, 3]), to: url)
        try AtomicWrite.write(Data([4, 5]), to: url)
        #expect(fileBytes(url.path) == Data([4, 5]))
        #expect(try FileManager.default.contentsOfDirectory(atPath: url.deletingLastPathComponent().path) == ["c.bin"])
        #expect(throws: ManifestError.self) {
            try AtomicWrite.write(Data([1]), to: URL(fileURLWithPath: "/proc/no-such-dir/x.bin"))
        }
    }

    @Test func removesOnlyTemporariesOfDeadWriters() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let sub = dir.url.appendingPathComponent("artifacts/s")
        try AtomicWrite.write(Data("keep".utf8), to: sub.appendingPathComponent("real.png"))
        let dead = sub.appendingPathComponent(".atomicwrite-\(Int32.max)-ab12-real.png")   // no such pid
        let malformed = dir.url.appendingPathComponent(".atomicwrite-garbage")
        let live = sub.appendingPathComponent(".atomicwrite-\(getpid())-cd34-other.png")    // this process
        for u in [dead, malformed, live] { try Data("x".utf8).write(to: u) }
        #expect(try AtomicWrite.removeLeftoverTemporaries(under: dir.url) == 2)
        #expect(!FileManager.default.fileExists(atPath: dead.path))
        #expect(!FileManager.default.fileExists(atPath: malformed.path))
        #expect(FileManager.default.fileExists(atPath: live.path))
        #expect(FileManager.default.fileExists(atPath: sub.appendingPathComponent("real.png").path))
        #expect(try AtomicWrite.removeLeftoverTemporaries(under: dir.url.appendingPathComponent("absent")) == 0)
    }

    /// The safetensors and image writers name their temporaries `.<name>.tmp-<pid>-<random>`: a killed
    /// writer's are removed at the next start too (issue 19 item 7), a live writer's and look-alikes are not.
    @Test func removesTheOtherWritersTemporariesOfDeadProcesses() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let sub = dir.url.appendingPathComponent("artifacts/pretrain-unet/checkpoints/step-00000100")
        try AtomicWrite.write(Data("keep".utf8), to: sub.appendingPathComponent("model.safetensors"))
        let dead = sub.appendingPathComponent(".model.safetensors.tmp-\(Int32.max)-123456")
        let deadImage = dir.url.appendingPathComponent(".sheet.png.tmp-\(Int32.max)-987")
        let live = sub.appendingPathComponent(".optimizer.safetensors.tmp-\(getpid())-42")
        let lookAlike = sub.appendingPathComponent(".notes.tmp-backup")
        for u in [dead, deadImage, live, lookAlike] { try Data("x".utf8).write(to: u) }
        #expect(try AtomicWrite.removeLeftoverTemporaries(under: dir.url) == 2)
        #expect(!FileManager.default.fileExists(atPath: dead.path) && !FileManager.default.fileExists(atPath: deadImage.path))
        #expect(FileManager.default.fileExists(atPath: live.path) && FileManager.default.fileExists(atPath: lookAlike.path))
        #expect(FileManager.default.fileExists(atPath: sub.appendingPathComponent("model.safetensors").path))
    }
}
