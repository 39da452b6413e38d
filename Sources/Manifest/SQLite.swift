import CSQLite
import Foundation

/// SQLITE_TRANSIENT: tells SQLite to copy bound text/blobs before `bind` returns.
private let sqliteTransient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// A value bound to a `?` parameter.
enum SQLValue {
    case int(Int64), double(Double), text(String), null
}

/// A minimal SQLite connection: prepared-statement cache, typed binding, errors carrying SQL and
/// path. Not thread-safe by itself; `ManifestDB` serialises access with a lock.
final class SQLiteConnection {
    let path: String
    private(set) var handle: OpaquePointer?
    private var cache: [String: OpaquePointer] = [:]

    /// Opens the file at `path` with `busyTimeoutMs`: read-write, creating it if absent (unless `create` is false), or
    /// with `readOnly` as `SQLITE_OPEN_READONLY` (never created; every write fails with SQLITE_READONLY).
    /// `immutable` (read-only only): the URI parameter `immutable=1`: SQLite takes no locks and reads no -wal or
    /// -journal file, for a file nothing writes any more (a shard plan), which then reads the same on every host.
    init(path: String, busyTimeoutMs: Int32, readOnly: Bool = false, immutable: Bool = false, create: Bool = true) throws {
        precondition(!immutable || readOnly, "an immutable open is read-only")
        self.path = path
        var db: OpaquePointer?
        var flags = (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0)) | SQLITE_OPEN_NOMUTEX
        var name = path
        if immutable {
            flags |= SQLITE_OPEN_URI
            name = URL(fileURLWithPath: path).absoluteString + "?immutable=1"
        }
        let rc = sqlite3_open_v2(name, &db, flags, nil)
        if rc != SQLITE_OK {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(db)
            throw ManifestError.cannotOpen(path: path, message: message)
        }
        handle = db
        sqlite3_extended_result_codes(db, 1)
        sqlite3_busy_timeout(db, busyTimeoutMs)
    }

    deinit { close() }

    func close() {
        for (_, stmt) in cache { sqlite3_finalize(stmt) }
        cache.removeAll()
        if let handle { sqlite3_close_v2(handle) }
        handle = nil
    }

    func error(_ sql: String, _ code: Int32) -> ManifestError {
        let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "closed connection"
        let primary = code & 0xff
        if primary == SQLITE_NOTADB || primary == SQLITE_CORRUPT {
            return .corrupt(path: path, detail: "\(message) while running `\(sql)`")
        }
        return .sqlite(path: path, sql: sql, code: code, message: message)
    }

    /// Runs one or more statements without parameters or results (DDL, PRAGMA, BEGIN).
    func exec(_ sql: String) throws {
        let rc = sqlite3_exec(handle, sql, nil, nil, nil)
        if rc != SQLITE_OK { throw error(sql, rc) }
    }

    private func prepared(_ sql: String) throws -> OpaquePointer {
        if let stmt = cache[sql] { return stmt }
        var stmt: OpaquePointer?
        let rc = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &stmt, nil)
        guard rc == SQLITE_OK, let stmt else { throw error(sql, rc) }
        cache[sql] = stmt
        return stmt
    }

    /// Runs `sql` with `args`, calling `row` for each result row; returns the number of rows changed.
    @discardableResult
    func run(_ sql: String, _ args: [SQLValue] = [], row: (Row) throws -> Void = { _ in }) throws -> Int {
        let stmt = try prepared(sql)
        defer { sqlite3_reset(stmt); sqlite3_clear_bindings(stmt) }
        for (i, arg) in args.enumerated() {
            let idx = Int32(i + 1)
            let rc: Int32
            switch arg {
            case .int(let v): rc = sqlite3_bind_int64(stmt, idx, v)
            case .double(let v): rc = sqlite3_bind_double(stmt, idx, v)
            case .text(let v): rc = sqlite3_bind_text(stmt, idx, v, -1, sqliteTransient)
            case .null: rc = sqlite3_bind_null(stmt, idx)
            }
            if rc != SQLITE_OK { throw error(sql, rc) }
        }
        while true {
            let rc = sqlite3_step(stmt)
            if rc == SQLITE_DONE { break }
            if rc != SQLITE_ROW { throw error(sql, rc) }
            try row(Row(stmt: stmt))
        }
        return Int(sqlite3_changes(handle))
    }

    /// All rows of `sql`, each mapped by `map`.
    func query<T>(_ sql: String, _ args: [SQLValue] = [], _ map: (Row) throws -> T) throws -> [T] {
        var out: [T] = []
        try run(sql, args) { out.append(try map($0)) }
        return out
    }

    var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }
}

/// The current row of a stepping statement; columns are 0-based.
struct Row {
    let stmt: OpaquePointer
    func int(_ i: Int32) -> Int64 { sqlite3_column_int64(stmt, i) }
    func double(_ i: Int32) -> Double { sqlite3_column_double(stmt, i) }
    func isNull(_ i: Int32) -> Bool { sqlite3_column_type(stmt, i) == SQLITE_NULL }
    func optInt(_ i: Int32) -> Int64? { isNull(i) ? nil : int(i) }
    func optDouble(_ i: Int32) -> Double? { isNull(i) ? nil : double(i) }
    func text(_ i: Int32) -> String {
        guard let p = sqlite3_column_text(stmt, i) else { return "" }
        return String(cString: p)
    }
    func optText(_ i: Int32) -> String? { isNull(i) ? nil : text(i) }
}
