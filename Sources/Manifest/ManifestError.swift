import CSQLite
import ErrorKinds
import Foundation

/// Every failure the manifest library reports. Each case names the file (and the SQL or the
/// item when relevant) and its `description` ends with a hint for the next step.
public enum ManifestError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The manifest file could not be opened or created (missing directory, permissions).
    case cannotOpen(path: String, message: String)
    /// The file is not a SQLite database or fails its integrity check (truncated, overwritten).
    /// The library never modifies such a file.
    case corrupt(path: String, detail: String)
    /// The manifest was written by newer code (PRAGMA user_version > `ManifestDB.schemaVersion`).
    case newerSchema(path: String, found: Int, supported: Int)
    /// A read-only open met an older schema (PRAGMA user_version < `ManifestDB.schemaVersion`), which
    /// only a read-write open migrates.
    case olderSchema(path: String, found: Int, supported: Int)
    /// A SQLite call failed; `code` is the extended result code.
    case sqlite(path: String, sql: String, code: Int32, message: String)
    /// `complete`/`fail` with a fencing token that is no longer the item's current token
    /// (the lease expired and another worker claimed the item), or the item is no longer running.
    case leaseLost(path: String, item: Int64, key: String, token: Int64, currentToken: Int64, status: String)
    /// An id given by the caller does not exist in the manifest.
    case notFound(path: String, what: String, id: Int64)
    /// A file operation failed (AtomicWrite, hashing, verify).
    case io(path: String, operation: String, errno: Int32)
    /// A shard journal (or a shard's own fingerprint) does not belong to the planned stage run: `what` differs
    /// (`fingerprint`, `stage run`, `stage`, `item key`), `expected` is the plan's, `found` the journal's.
    case journalMismatch(path: String, what: String, expected: String, found: String)
    /// An artifact a shard journal records is missing or differs from its recorded size or SHA-256.
    case journalArtifactUnverified(journal: String, problem: String)

    public var description: String {
        switch self {
        case let .cannotOpen(path, message):
            return "manifest \(path): cannot open (\(message)); hint: check that the run directory exists (and is writable, "
                + "for a stage), or pass the right one with --run-dir"
        case let .corrupt(path, detail):
            return "manifest \(path): not a valid manifest (\(detail)); it was left untouched; hint: move it aside "
                + "(or restore a backup) and rerun, which starts a fresh manifest"
        case let .newerSchema(path, found, supported):
            return "manifest \(path): schema version \(found) is newer than this code supports (\(supported)); "
                + "hint: run a newer build of the pipeline, or use another run directory"
        case let .olderSchema(path, found, supported):
            return "manifest \(path): schema version \(found) is older than this code's (\(supported)) and a read-only open does "
                + "not migrate it; hint: run any stage of this build on the run directory once (it migrates), then read it again"
        case let .sqlite(path, sql, code, message):
            return "manifest \(path): SQLite error \(code) (\(message)) in `\(sql)`; hint: \(Self.hint(code: code))"
        case let .leaseLost(path, item, key, token, current, status):
            return "manifest \(path): lease lost on item \(item) '\(key)' (claim token \(token), current token \(current), "
                + "status \(status)); hint: another worker owns it now; discard this result and claim again"
        case let .notFound(path, what, id):
            return "manifest \(path): no \(what) with id \(id); hint: list them with the inspect command"
        case let .io(path, operation, code):
            return "\(path): \(operation) failed: \(String(cString: strerror(code))) (errno \(code)); "
                + "hint: check that the directory exists, is writable and the disk is not full"
        case let .journalMismatch(path, what, expected, found):
            return "shard journal \(path): \(what) is \(found) but the planned stage run's is \(expected); nothing was merged; "
                + "hint: it was written for another plan, config or code version: delete it and rerun that shard with the "
                + "planned --config and build (or plan the shards again), then merge"
        case let .journalArtifactUnverified(journal, problem):
            return "shard journal \(journal) records \(problem); nothing was merged; hint: delete the journal and rerun that "
                + "shard (it redoes the shard's items), then merge"
        }
    }

    static func hint(code: Int32) -> String {
        switch code & 0xff {
        case SQLITE_BUSY, SQLITE_LOCKED:
            return "another process held the write lock longer than the busy timeout; retry, or stop the other worker"
        case SQLITE_CONSTRAINT:
            return "a referenced id does not exist, a unique key repeats or a value is out of range; check the ids passed"
        case SQLITE_READONLY, SQLITE_PERM, SQLITE_CANTOPEN:
            return "check permissions of the manifest and its directory (WAL needs to create -wal and -shm files)"
        case SQLITE_FULL, SQLITE_IOERR:
            return "check free disk space and the file system"
        case SQLITE_CORRUPT, SQLITE_NOTADB:
            return "the manifest is damaged; move it aside and rerun"
        default:
            return "this is likely a bug in the caller or the library; report the SQL above"
        }
    }
}

extension ManifestError: ClassifiedError {
    /// A manifest that cannot be opened is missing input; a damaged, empty, newer or (read-only) older one bad data; a failed
    /// file operation I/O. SQLite errors by primary result code: BUSY/LOCKED busy; IOERR, FULL, READONLY,
    /// PERM, CANTOPEN I/O; CORRUPT, NOTADB bad data; anything else (misuse, constraint) a bug.
    public var errorKind: ErrorKind {
        switch self {
        case .cannotOpen: return .missingInput
        case .corrupt, .newerSchema, .olderSchema, .journalMismatch, .journalArtifactUnverified: return .badData
        case .io: return .io
        case let .sqlite(_, _, code, _):
            switch code & 0xff {
            case SQLITE_BUSY, SQLITE_LOCKED: return .busy
            case SQLITE_IOERR, SQLITE_FULL, SQLITE_READONLY, SQLITE_PERM, SQLITE_CANTOPEN: return .io
            case SQLITE_CORRUPT, SQLITE_NOTADB: return .badData
            default: return .internalError
            }
        case .leaseLost, .notFound: return .internalError
        }
    }
}
