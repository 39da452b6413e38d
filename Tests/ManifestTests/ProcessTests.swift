import Foundation
import Testing
import TestSupport
@testable import Manifest

/// Claims from separate processes (the `manifest-worker` helper, built beside the test binary).
@Suite struct ProcessTests {
    /// The helper built beside the test binary; records an issue (with the fix) if it was not built.
    private func workerURL() throws -> URL {
        let url = Executables.productsDirectory(holding: "manifest-worker").appendingPathComponent("manifest-worker")
        guard FileManager.default.isExecutableFile(atPath: url.path) else {
            Issue.record("manifest-worker not found at \(url.path); hint: swift build --product manifest-worker")
            throw CancellationError()
        }
        return url
    }

    private func spawn(_ url: URL, _ args: [String], in dir: TempDir, go: URL? = nil) throws -> Spawned {
        try Spawned(url, args, in: dir.url,
                    environment: go.map { ["MANIFEST_WORKER_GO": $0.path, "MANIFEST_WORKER_WORK_US": "1000"] } ?? [:])
    }

    /// Waits for exit; returns the printed keys, recording an issue on failure.
    private func finish(_ w: Spawned) -> [String] {
        let status = w.wait()
        #expect(status == 0, "worker failed: \(w.stderr)")
        return w.stdout.split(separator: "\n").map(String.init)
    }

    @Test func twoProcessesNeverShareAnItem() throws {
        let worker = try workerURL()
        let dir = try TempDir()
        defer { dir.cleanup() }
        let db = try ManifestDB(path: dir.manifestPath)
        let stage = try makeStage(db)
        let keys = (0..<300).map { "k\($0)" }
        try db.addItems(stageRun: stage, keys: keys)
        // Both workers open the manifest, then start claiming together when `go` appears.
        let go = dir.url.appendingPathComponent("go")
        let procs = try (0..<2).map { try spawn(worker, [dir.manifestPath, "\(stage)", "p\($0)", "2", "3600"], in: dir, go: go) }
        Thread.sleep(forTimeInterval: 0.3)
        #expect(FileManager.default.createFile(atPath: go.path, contents: Data()))
        let done = procs.map(finish)
        let all = done.flatMap { $0 }
        #expect(all.count == keys.count, "claimed twice or lost: \(all.count) completions for \(keys.count) items")
        #expect(Set(all) == Set(keys))
        #expect(done.allSatisfy { !$0.isEmpty }, "one process did all the work: \(done.map(\.count))")
        #expect(try db.counts(stageRun: stage) == ItemCounts(done: keys.count))
        #expect(try db.items(stageRun: stage).allSatisfy { $0.attempts == 1 })
    }

    @Test func aDeadWorkersItemsComeBackAfterTheLease() throws {
        let worker = try workerURL()
        let dir = try TempDir()
        defer { dir.cleanup() }
        let db = try ManifestDB(path: dir.manifestPath)
        let stage = try makeStage(db)
        try db.addItems(stageRun: stage, keys: ["a", "b", "c"])
        let abandoned = finish(try spawn(worker, [dir.manifestPath, "\(stage)", "crash", "2", "0.5", "abandon"], in: dir))
        #expect(abandoned == ["a", "b"])
        #expect(try db.claim(stageRun: stage, owner: "me", limit: 5, lease: 60).map(\.key) == ["c"])
        Thread.sleep(forTimeInterval: 0.6)   // real time: the lease was stored by another process
        let back = try db.claim(stageRun: stage, owner: "me", limit: 5, lease: 60)
        #expect(back.map(\.key) == ["a", "b"] && back.allSatisfy { $0.token == 2 })
    }
}
