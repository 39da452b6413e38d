import CSQLite
import Foundation

/// One shard's record of its work in journal mode (`runs/<name>/shards/<stage>/<k>-of-<N>.sqlite`): the items it
/// finished or failed, each with its artifacts and metrics, so a shard on another host never writes the run's manifest.
///
/// A journal has exactly one writer, the process of its shard, so it needs no claims, leases or fencing tokens, and
/// no clock of another host is ever compared with this one's (times here are informative only). It is a plain SQLite
/// file in rollback-journal mode (`journal_mode=DELETE`, no WAL: WAL needs shared memory, which network file systems
/// do not share between hosts), `synchronous=FULL`. Each item is one transaction (the item row and its artifacts),
/// so a killed shard leaves whole items; the `complete` row, written in the shard's last transaction, says the shard
/// finished its items. `ManifestDB.mergeShardJournals` folds journals into the manifest.
public final class ShardJournal: @unchecked Sendable {
    /// Marks a SQLite file as a shard journal (`PRAGMA application_id`), ASCII "PDPJ".
    static let applicationID: Int32 = 0x5044_504A
    static let schemaVersion = 1

    /// Which planned stage run a journal belongs to; written once, when the journal is created.
    public struct Header: Sendable, Equatable {
        public let stage: String
        public let stageRun: Int64
        public let fingerprint: String
        public let shard: Shard
        public init(stage: String, stageRun: Int64, fingerprint: String, shard: Shard) {
            self.stage = stage; self.stageRun = stageRun; self.fingerprint = fingerprint; self.shard = shard
        }
    }

    /// A metric an item recorded (`ManifestDB.recordMetric` once merged). A NaN value round-trips as NaN.
    public struct Metric: Sendable {
        public let name: String
        public let step: Int
        public let value: Double
        public init(name: String, step: Int, value: Double) { self.name = name; self.step = step; self.value = value }
    }

    /// One journaled item: `done` with its artifacts, or failed with `error`.
    public struct Entry: Sendable {
        public let key: String
        /// The item's id in the planned stage run.
        public let item: Int64
        public let done: Bool
        /// How many times this shard ran the item (1, or more when a failed item was retried by a rerun).
        public let attempts: Int
        public let error: String?
        public let artifacts: [NewArtifact]
        public let metrics: [Metric]
    }

    public let path: String
    public let header: Header
    let db: SQLiteConnection
    let lock = NSLock()

    /// Opens the journal at `path` for a shard's worker, creating it with `header` when absent. An existing journal
    /// must carry the same header: otherwise `.journalMismatch` names the file, what differs and both values.
    public convenience init(path: String, creating header: Header) throws {
        try self.init(path: path, create: header)
    }

    /// Opens an existing journal (for a merge). A transaction that a killed shard left half-written is rolled back by
    /// SQLite on this open (its hot -journal file), so only whole items are seen.
    /// - Throws: `.cannotOpen` for a missing file, `.corrupt` for a file that is no shard journal.
    public convenience init(path: String) throws {
        try self.init(path: path, create: nil)
    }

    private init(path: String, create: Header?) throws {
        self.path = path
        if create == nil { try ManifestDB.requireNonEmptyFile(path) } else {
            let dir = (path as NSString).deletingLastPathComponent
            do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
                throw ManifestError.io(path: dir, operation: "create directory", errno: EACCES)
            }
        }
        db = try SQLiteConnection(path: path, busyTimeoutMs: Int32(ManifestDB.busyTimeout * 1000), create: create != nil)
        let mode = try db.query("PRAGMA journal_mode=DELETE") { $0.text(0) }.first ?? ""
        guard mode.lowercased() == "delete" else {
            throw ManifestError.sqlite(path: path, sql: "PRAGMA journal_mode=DELETE", code: SQLITE_ERROR,
                                       message: "journal mode stayed '\(mode)'")
        }
        try db.exec("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;")
        let app = try db.query("PRAGMA application_id") { $0.int(0) }.first ?? 0
        let version = try db.query("PRAGMA user_version") { $0.int(0) }.first ?? 0
        if app == 0 && version == 0, let h = create {
            try Self.createSchema(db, header: h)
        } else if app != Int64(Self.applicationID) || version != Int64(Self.schemaVersion) {
            throw ManifestError.corrupt(path: path, detail: "not a shard journal of this code (application_id \(app), "
                                        + "user_version \(version))")
        }
        let rows = try db.query("SELECT stage, stage_run, fingerprint, shard_index, shard_count FROM header") {
            ($0.text(0), $0.int(1), $0.text(2), Int($0.int(3)), Int($0.int(4)))
        }
        guard rows.count == 1, let (stage, stageRun, fingerprint, k, n) = rows.first, n >= 1, k >= 0, k < n else {
            throw ManifestError.corrupt(path: path, detail: "shard journal without one valid header row")
        }
        let found = Header(stage: stage, stageRun: stageRun, fingerprint: fingerprint, shard: Shard(index: k, count: n))
        header = found
        if let h = create { try Self.requireSame(found, h, path: path) }
    }

    private static func createSchema(_ db: SQLiteConnection, header h: Header) throws {
        try db.exec("BEGIN IMMEDIATE")
        do {
            try db.exec("""
                CREATE TABLE header (stage TEXT NOT NULL, stage_run INTEGER NOT NULL, fingerprint TEXT NOT NULL,
                  shard_index INTEGER NOT NULL, shard_count INTEGER NOT NULL, host TEXT NOT NULL, created REAL NOT NULL) STRICT;
                CREATE TABLE items (key TEXT PRIMARY KEY, item INTEGER NOT NULL,
                  status TEXT NOT NULL CHECK (status IN ('done','failed')), attempts INTEGER NOT NULL, error TEXT,
                  finished REAL NOT NULL) STRICT;
                CREATE TABLE artifacts (id INTEGER PRIMARY KEY, key TEXT NOT NULL REFERENCES items(key) ON DELETE CASCADE,
                  kind TEXT NOT NULL, path TEXT NOT NULL, sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
                  bytes INTEGER NOT NULL CHECK (bytes >= 0)) STRICT;
                CREATE TABLE metrics (id INTEGER PRIMARY KEY, key TEXT NOT NULL REFERENCES items(key) ON DELETE CASCADE,
                  name TEXT NOT NULL, step INTEGER NOT NULL, value REAL) STRICT;
                CREATE TABLE complete (id INTEGER PRIMARY KEY CHECK (id = 1), done INTEGER NOT NULL, failed INTEGER NOT NULL,
                  finished REAL NOT NULL) STRICT;
                PRAGMA application_id=\(applicationID); PRAGMA user_version=\(schemaVersion);
                """)
            try db.run("INSERT INTO header VALUES (?,?,?,?,?,?,?)",
                       [.text(h.stage), .int(h.stageRun), .text(h.fingerprint), .int(Int64(h.shard.index)),
                        .int(Int64(h.shard.count)), .text(ProcessInfo.processInfo.hostName), .double(Date().timeIntervalSince1970)])
            try db.exec("COMMIT")
        } catch {
            try? db.exec("ROLLBACK")
            throw error
        }
    }

    /// Throws `.journalMismatch` for the first field of `found` that differs from `expected`.
    static func requireSame(_ found: Header, _ expected: Header, path: String) throws {
        let pairs: [(String, String, String)] = [
            ("stage", expected.stage, found.stage), ("stage run", "\(expected.stageRun)", "\(found.stageRun)"),
            ("fingerprint", expected.fingerprint, found.fingerprint), ("shard", "\(expected.shard)", "\(found.shard)"),
        ]
        if let (what, e, f) = pairs.first(where: { $0.1 != $0.2 }) {
            throw ManifestError.journalMismatch(path: path, what: what, expected: e, found: f)
        }
    }

    /// Runs `body` in one `BEGIN IMMEDIATE ... COMMIT`, rolling back if it throws.
    private func transaction(_ body: () throws -> Void) throws {
        lock.lock()
        defer { lock.unlock() }
        try db.exec("BEGIN IMMEDIATE")
        do { try body(); try db.exec("COMMIT") } catch { try? db.exec("ROLLBACK"); throw error }
    }

    /// Records `key` (item `item` of the plan) done with its `artifacts` (already written, atomically) and `metrics`, in
    /// one transaction; replaces an earlier failure of the same item.
    public func recordDone(key: String, item: Int64, artifacts: [NewArtifact], metrics: [Metric] = []) throws {
        try record(key: key, item: item, status: "done", error: nil, artifacts: artifacts, metrics: metrics)
    }

    /// Records `key` failed with `error` (a rerun of the shard tries it again).
    public func recordFailure(key: String, item: Int64, error: String) throws {
        try record(key: key, item: item, status: "failed", error: error, artifacts: [], metrics: [])
    }

    private func record(key: String, item: Int64, status: String, error: String?, artifacts: [NewArtifact],
                        metrics: [Metric]) throws {
        try transaction {
            let before = try db.query("SELECT attempts FROM items WHERE key=?", [.text(key)]) { $0.int(0) }.first ?? 0
            try db.run("DELETE FROM items WHERE key=?", [.text(key)])   // cascades to a failure's (no) artifacts
            try db.run("INSERT INTO items(key, item, status, attempts, error, finished) VALUES (?,?,?,?,?,?)",
                       [.text(key), .int(item), .text(status), .int(before + 1), error.map { .text($0) } ?? .null,
                        .double(Date().timeIntervalSince1970)])
            for a in artifacts {
                precondition(!a.relativePath.hasPrefix("/"), "artifact path '\(a.relativePath)' must be relative to the run directory")
                try db.run("INSERT INTO artifacts(key, kind, path, sha256, bytes) VALUES (?,?,?,?,?)",
                           [.text(key), .text(a.kind), .text(a.relativePath), .text(a.sha256), .int(a.bytes)])
            }
            for m in metrics {
                try db.run("INSERT INTO metrics(key, name, step, value) VALUES (?,?,?,?)",
                           [.text(key), .text(m.name), .int(Int64(m.step)), m.value.isNaN ? .null : .double(m.value)])
            }
        }
    }

    /// Removes the `complete` row: a rerun of the shard is under way.
    public func markRunning() throws {
        try transaction { try db.run("DELETE FROM complete") }
    }

    /// Writes the `complete` row (the shard's last transaction): every item of the shard was done or failed.
    public func markComplete(done: Int, failed: Int) throws {
        try transaction {
            try db.run("INSERT OR REPLACE INTO complete(id, done, failed, finished) VALUES (1,?,?,?)",
                       [.int(Int64(done)), .int(Int64(failed)), .double(Date().timeIntervalSince1970)])
        }
    }

    /// Whether the shard's last run finished (the `complete` row is present).
    public func isComplete() throws -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return try !db.query("SELECT 1 FROM complete", [], { $0.int(0) }).isEmpty
    }

    /// Every journaled item in key order, with its artifacts in the order recorded.
    public func entries() throws -> [Entry] {
        lock.lock()
        defer { lock.unlock() }
        var artifacts: [String: [NewArtifact]] = [:]
        try db.run("SELECT key, kind, path, sha256, bytes FROM artifacts ORDER BY id") {
            artifacts[$0.text(0), default: []].append(NewArtifact(kind: $0.text(1), relativePath: $0.text(2),
                                                                  sha256: $0.text(3), bytes: $0.int(4)))
        }
        var metrics: [String: [Metric]] = [:]
        try db.run("SELECT key, name, step, value FROM metrics ORDER BY id") {
            metrics[$0.text(0), default: []].append(Metric(name: $0.text(1), step: Int($0.int(2)), value: $0.optDouble(3) ?? .nan))
        }
        return try db.query("SELECT key, item, status, attempts, error FROM items ORDER BY key") {
            Entry(key: $0.text(0), item: $0.int(1), done: $0.text(2) == "done", attempts: Int($0.int(3)),
                  error: $0.optText(4), artifacts: artifacts[$0.text(0)] ?? [], metrics: metrics[$0.text(0)] ?? [])
        }
    }

    /// The journal of shard `shard` in `directory` (`<k>-of-<N>.sqlite`).
    public static func fileName(_ shard: Shard) -> String { "\(shard.index)-of-\(shard.count).sqlite" }

    /// The shard a journal's file name names, nil for any other name (the plan, temporaries).
    public static func shard(fileName: String) -> Shard? {
        guard fileName.hasSuffix(".sqlite") else { return nil }
        let parts = fileName.dropLast(7).split(separator: "-")
        guard parts.count == 3, parts[1] == "of", let k = Int(parts[0]), let n = Int(parts[2]), n >= 1, k >= 0, k < n
        else { return nil }
        return Shard(index: k, count: n)
    }
}
