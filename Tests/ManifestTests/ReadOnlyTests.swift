import CSQLite
import ErrorKinds
import Foundation
import Testing
@testable import Manifest

/// `ManifestDB(path:mode: .readOnly)`, the open `inspect` uses: it never creates, migrates or writes.
@Suite struct ReadOnlyTests {
    /// A 0-byte manifest used to get a fresh schema written into it (the history of the artifacts on disk
    /// silently replaced); now it is `.corrupt` naming the file, which stays 0 bytes.
    @Test func emptyFileIsCorruptAndStaysEmpty() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        #expect(FileManager.default.createFile(atPath: dir.manifestPath, contents: Data()))
        #expect {
            _ = try ManifestDB(path: dir.manifestPath, mode: .readOnly)
        } throws: { error in
            guard case let .corrupt(p, detail) = error as? ManifestError else { return false }
            return p == dir.manifestPath && detail.contains("empty file (0 bytes)")
        }
        #expect(fileBytes(dir.manifestPath) == Data())
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.url.path) == ["manifest.sqlite"])
    }

    @Test func missingFileIsCannotOpenAndNotCreated() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        #expect {
            _ = try ManifestDB(path: dir.manifestPath, mode: .readOnly)
        } throws: { error in
            guard case let .cannotOpen(p, _) = error as? ManifestError else { return false }
            return p == dir.manifestPath
        }
        #expect(!FileManager.default.fileExists(atPath: dir.manifestPath))
    }

    /// A SQLite file holding no manifest schema (user_version 0) is refused, not migrated.
    @Test func fileWithoutTheSchemaIsRefusedUntouched() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        do {
            let conn = try SQLiteConnection(path: dir.manifestPath, busyTimeoutMs: 100)
            try conn.exec("PRAGMA application_id=\(Schema.applicationID)")
        }
        let before = try #require(fileBytes(dir.manifestPath))
        #expect(!before.isEmpty)
        #expect {
            _ = try ManifestDB(path: dir.manifestPath, mode: .readOnly)
        } throws: { error in
            guard case let .corrupt(_, detail) = error as? ManifestError else { return false }
            return detail.contains("user_version 0")
        }
        #expect(fileBytes(dir.manifestPath) == before)
    }

    /// A real manifest reads as usual; a write through the read-only connection fails (SQLITE_READONLY, an I/O kind).
    @Test func readsWorkAndWritesAreRefused() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let stage: Int64
        do {
            let db = try ManifestDB(path: dir.manifestPath)
            stage = try makeStage(db)
            try db.addItems(stageRun: stage, keys: ["a", "b"])
        }
        let before = fileBytes(dir.manifestPath)
        let ro = try ManifestDB(path: dir.manifestPath, mode: .readOnly)
        #expect(try ro.stageRuns(stage: "generate-pool").map(\.id) == [stage])
        #expect(try ro.counts(stageRun: stage).pending == 2)
        #expect {
            _ = try ro.ensureRun(name: "other", configHash: "c1", codeVersion: "v1")
        } throws: { error in
            guard case let .sqlite(_, _, code, _) = error as? ManifestError else { return false }
            return code & 0xff == SQLITE_READONLY && (error as? ManifestError)?.errorKind == .io
        }
        #expect(fileBytes(dir.manifestPath) == before)
    }

    @Test func newerSchemaIsRefusedReadOnlyToo() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        do {
            let db = try ManifestDB(path: dir.manifestPath)
            try db.db.exec("PRAGMA user_version=\(ManifestDB.schemaVersion + 1)")
        }
        #expect(throws: ManifestError.newerSchema(path: dir.manifestPath, found: ManifestDB.schemaVersion + 1,
                                                  supported: ManifestDB.schemaVersion)) {
            _ = try ManifestDB(path: dir.manifestPath, mode: .readOnly)
        }
    }
}
