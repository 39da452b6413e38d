import Foundation

/// The checks of a read-only open (`ManifestDB.OpenMode.readOnly`, used by `inspect`): a reader must
/// report a manifest it cannot show instead of replacing it, so a missing file stays missing, and an
/// empty (0-byte) file or one without this schema is an error, never a fresh schema.
extension ManifestDB {
    /// A missing file is `.cannotOpen` (exit 66 via its kind); a 0-byte file `.corrupt` (exit 65): SQLite
    /// would read it as an empty database, and a writer would put a new schema in it, hiding the history
    /// of the artifacts still on disk.
    static func requireNonEmptyFile(_ path: String) throws {
        var st = stat()
        guard stat(path, &st) == 0 else {
            throw ManifestError.cannotOpen(path: path, message: String(cString: strerror(errno)))
        }
        if st.st_size == 0 {
            throw ManifestError.corrupt(path: path, detail: "empty file (0 bytes): no manifest in it, so the artifacts "
                                        + "under the run directory cannot be checked against their records; it was "
                                        + "truncated, or its stage crashed before writing anything")
        }
    }

    /// Refuses a SQLite file without the manifest schema (user_version 0) and one whose schema needs a
    /// migration, which a read-only open must not run.
    func requireCurrentSchema(_ found: Int) throws {
        if found == 0 {
            throw ManifestError.corrupt(path: path, detail: "a SQLite file without the manifest schema (user_version 0)")
        }
        if found < Self.schemaVersion {
            throw ManifestError.olderSchema(path: path, found: found, supported: Self.schemaVersion)
        }
    }
}
