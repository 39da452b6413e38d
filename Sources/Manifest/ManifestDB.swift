import CSQLite
import Foundation

/// The pipeline manifest: one SQLite file per run directory (`runs/<name>/manifest.sqlite`)
/// recording runs, stage runs, work items with leases, artifacts, lineage, metrics and events.
///
/// One connection per instance; every call is serialised by a recursive lock, so an instance may
/// be shared between threads (`@unchecked Sendable` is sound because all state sits behind `lock`).
/// Several processes (or several instances) may use one file: the file is in WAL mode, writes use
/// `BEGIN IMMEDIATE` and wait up to `busyTimeout` for the write lock.
public final class ManifestDB: @unchecked Sendable {
    /// The schema version this code writes (`PRAGMA user_version`).
    public static let schemaVersion: Int = Schema.migrations.count
    /// How long a write waits for another connection's write lock before failing.
    public static let busyTimeout: Double = 10

    /// Wall-clock Unix seconds, the default clock.
    public static let wallClock: @Sendable () -> Double = { Date().timeIntervalSince1970 }

    /// The path given to `init`.
    public let path: String
    let db: SQLiteConnection
    let lock = NSRecursiveLock()
    let clock: @Sendable () -> Double
    private var depth = 0

    /// How `init` opens the file.
    public enum OpenMode: Sendable {
        /// Stages: create the file if absent, migrate it, WAL.
        case readWrite
        /// Readers (`inspect`): `SQLITE_OPEN_READONLY`; never creates, migrates or writes the file, and refuses
        /// one that holds no manifest of this schema (see `ManifestDB+ReadOnly.swift`).
        case readOnly
        /// A shard plan (`writeSnapshot(to:)`): `.readOnly` on a file nothing writes any more, opened `immutable`
        /// (no locks, no -wal or -journal read), so shards on other hosts read it from shared storage safely.
        case snapshot
    }

    /// Opens the manifest at `path`. `.readWrite` creates it if absent and migrates it to `schemaVersion`,
    /// setting WAL, `synchronous=FULL`, `foreign_keys=ON` and the busy timeout; `.readOnly` only reads.
    /// - Throws: `.cannotOpen` (missing directory or, read-only, missing file; permissions), `.corrupt` (not a
    ///   SQLite file, truncated, fails `PRAGMA quick_check`, another application's database, or, read-only, an
    ///   empty file; never modified), `.newerSchema` (written by newer code; never modified), `.olderSchema`
    ///   (read-only only: a migration is due).
    /// - Parameter clock: Unix seconds used for leases and timestamps (tests inject a fake clock).
    public init(path: String, mode: OpenMode = .readWrite,
                clock: @escaping @Sendable () -> Double = ManifestDB.wallClock) throws {
        self.path = path
        self.clock = clock
        if mode != .readWrite { try Self.requireNonEmptyFile(path) }
        db = try SQLiteConnection(path: path, busyTimeoutMs: Int32(Self.busyTimeout * 1000), readOnly: mode != .readWrite,
                                  immutable: mode == .snapshot)
        try checkIntegrity()
        let found = try userVersion()
        if found > Self.schemaVersion {
            throw ManifestError.newerSchema(path: path, found: found, supported: Self.schemaVersion)
        }
        if mode != .readWrite {
            try requireCurrentSchema(found)
            return
        }
        // SQLite answers SQLITE_BUSY at once, without its busy handler, when another process is switching the same new
        // file to WAL (two shards opening a fresh manifest together): retry for the busy timeout like any other lock.
        let mode = try Self.retryingBusy(path: path) { try db.query("PRAGMA journal_mode=WAL") { $0.text(0) }.first ?? "" }
        guard mode.lowercased() == "wal" else {
            throw ManifestError.sqlite(path: path, sql: "PRAGMA journal_mode=WAL", code: SQLITE_ERROR,
                                       message: "journal mode stayed '\(mode)' (file system without shared memory?)")
        }
        try db.exec("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;")
        try migrate()
    }

    /// `body`, retried every 20 ms while it fails with SQLITE_BUSY, for at most `busyTimeout` seconds of monotonic time.
    static func retryingBusy<T>(path: String, _ body: () throws -> T) throws -> T {
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(busyTimeout * 1e9)
        while true {
            do { return try body() } catch ManifestError.sqlite(_, _, let code, _) where code == SQLITE_BUSY
                                        && DispatchTime.now().uptimeNanoseconds < deadline {
                usleep(20_000)
            }
        }
    }

    /// Refuses files that are not SQLite, fail `quick_check`, or belong to another application.
    private func checkIntegrity() throws {
        let result = try db.query("PRAGMA quick_check(5)") { $0.text(0) }
        if result != ["ok"] {
            throw ManifestError.corrupt(path: path, detail: "quick_check: " + result.joined(separator: "; "))
        }
        // Both in ONE read transaction (one snapshot): another process may be committing the first migration, which
        // creates the tables and sets application_id together; two separate reads could see the tables without the id.
        try db.exec("BEGIN")
        let read = Result { () throws -> (Int64, Int64) in
            (try db.query("PRAGMA application_id") { $0.int(0) }.first ?? 0,
             try db.query("SELECT count(*) FROM sqlite_schema") { $0.int(0) }.first ?? 0)
        }
        try db.exec("COMMIT")
        let (app, tables) = try read.get()
        if (app != 0 && app != Int64(Schema.applicationID)) || (app == 0 && tables > 0) {
            throw ManifestError.corrupt(path: path, detail: "a SQLite database of another application "
                                        + "(application_id \(app), \(tables) schema entries)")
        }
    }

    func userVersion() throws -> Int {
        Int(try db.query("PRAGMA user_version") { $0.int(0) }.first ?? 0)
    }

    /// Applies the missing migrations in one `BEGIN IMMEDIATE` transaction (rechecking the version
    /// under the write lock, so concurrent openers migrate once).
    private func migrate() throws {
        try transaction {
            let current = try userVersion()
            if current > Self.schemaVersion {
                throw ManifestError.newerSchema(path: path, found: current, supported: Self.schemaVersion)
            }
            guard current < Self.schemaVersion else { return }
            for v in current..<Self.schemaVersion { try db.exec(Schema.migrations[v]) }
            try db.exec("PRAGMA application_id=\(Schema.applicationID); PRAGMA user_version=\(Self.schemaVersion)")
        }
    }

    /// Runs `body` inside `BEGIN IMMEDIATE ... COMMIT`, rolling back if it throws. Nested calls
    /// (also the library's own methods called from `body`) become savepoints of the outer transaction.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        lock.lock()
        defer { lock.unlock() }
        let outer = depth == 0
        try db.exec(outer ? "BEGIN IMMEDIATE" : "SAVEPOINT nested")
        depth += 1
        defer { depth -= 1 }
        do {
            let value = try body()
            try db.exec(outer ? "COMMIT" : "RELEASE nested")
            return value
        } catch {
            try? db.exec(outer ? "ROLLBACK" : "ROLLBACK TO nested; RELEASE nested")
            throw error
        }
    }

    /// Runs `body` under the lock without a transaction (single statements, reads).
    @discardableResult
    func locked<T>(_ body: () throws -> T) throws -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    var now: Double { clock() }
}
