import Foundation
import Testing
@testable import Manifest

@Suite struct SharingTests {
    @Test func oneInstanceSharedByThreadsIsSerialised() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let db = try ManifestDB(path: dir.manifestPath)
        let stage = try makeStage(db)
        let keys = (0..<200).map { "s\($0)" }
        try db.addItems(stageRun: stage, keys: keys)
        let lock = NSLock()
        nonisolated(unsafe) var claimed: [String] = []   // guarded by `lock`
        nonisolated(unsafe) var errors: [String] = []    // guarded by `lock`
        DispatchQueue.concurrentPerform(iterations: 4) { w in
            do {
                while true {
                    let batch = try db.claim(stageRun: stage, owner: "t\(w)", limit: 2, lease: 3600)
                    if batch.isEmpty { break }
                    for c in batch {
                        try db.complete(c, artifacts: [])
                        try db.recordMetric(stageRun: stage, name: "done", step: Int(c.item), value: 1)
                    }
                    lock.lock(); claimed += batch.map(\.key); lock.unlock()
                }
            } catch {
                lock.lock(); errors.append("\(error)"); lock.unlock()
            }
        }
        #expect(errors.isEmpty, "\(errors)")
        #expect(claimed.count == keys.count && Set(claimed) == Set(keys))
        #expect(try db.metrics(stageRun: stage).count == keys.count)
    }

    @Test func aWriterWaitsForAnotherConnectionsLockInsteadOfFailing() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let holder = try ManifestDB(path: dir.manifestPath)
        let stage = try makeStage(holder)
        let waiter = try ManifestDB(path: dir.manifestPath)
        let lock = NSLock()
        nonisolated(unsafe) var outcome: Result<Int, Error>?   // guarded by `lock`
        let done = DispatchSemaphore(value: 0)
        try holder.transaction {
            try holder.addItems(stageRun: stage, keys: ["first"])
            Thread.detachNewThread {
                let r = Result { try waiter.addItems(stageRun: stage, keys: ["second"]) }
                lock.lock(); outcome = r; lock.unlock()
                done.signal()
            }
            Thread.sleep(forTimeInterval: 0.3)   // hold the write lock while the other connection tries
        }
        done.wait()
        lock.lock(); defer { lock.unlock() }
        #expect(throws: Never.self) { try outcome?.get() }
        #expect(try outcome?.get() == 1)
        #expect(try holder.items(stageRun: stage).map(\.key) == ["first", "second"])
    }

    @Test func concurrentFirstOpensMigrateOnce() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let lock = NSLock()
        nonisolated(unsafe) var errors: [String] = []   // guarded by `lock`
        DispatchQueue.concurrentPerform(iterations: 4) { w in
            do {
                let db = try ManifestDB(path: dir.manifestPath)
                _ = try db.ensureRun(name: "r", configHash: "h", codeVersion: "v", config: "[s]\nk = \(w)")
            } catch {
                lock.lock(); errors.append("\(error)"); lock.unlock()
            }
        }
        #expect(errors.isEmpty, "\(errors)")
        let db = try ManifestDB(path: dir.manifestPath)
        let runs = try db.runs()
        #expect(runs.count == 1 && runs[0].name == "r" && runs[0].config.hasPrefix("[s]\nk = "))
        #expect(try db.db.query("SELECT count(*) FROM sqlite_schema WHERE type='table'") { $0.int(0) } == [7])
    }
}
