import Foundation

/// A shard plan: a consistent copy of the manifest that shards on other hosts read instead of the manifest itself.
extension ManifestDB {
    /// Writes a consistent copy of this manifest to `url` atomically (`VACUUM INTO` a temporary beside it, switched to
    /// `journal_mode=DELETE`, fsynced, renamed into place, directory fsynced), for `OpenMode.snapshot` readers: nothing
    /// writes the copy after the rename, so they may open it `immutable` on any host. Replaces an older copy.
    public func writeSnapshot(to url: URL) throws {
        let dir = url.deletingLastPathComponent()
        do { try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true) } catch {
            throw ManifestError.io(path: dir.path, operation: "create directory", errno: EACCES)
        }
        let temp = dir.appendingPathComponent(AtomicWrite.temporaryName(for: url.lastPathComponent))
        var ok = false
        defer { if !ok { unlink(temp.path) } }
        try locked { try db.run("VACUUM INTO ?", [.text(temp.path)]) }
        do {
            let copy = try SQLiteConnection(path: temp.path, busyTimeoutMs: 1000, create: false)
            _ = try copy.query("PRAGMA journal_mode=DELETE") { $0.text(0) }
            copy.close()
        }
        let fd = open(temp.path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw ManifestError.io(path: temp.path, operation: "open snapshot for fsync", errno: errno) }
        let synced = fsync(fd) == 0
        let code = errno
        close(fd)
        if !synced { throw ManifestError.io(path: temp.path, operation: "fsync", errno: code) }
        if rename(temp.path, url.path) != 0 {
            throw ManifestError.io(path: url.path, operation: "rename snapshot into place", errno: errno)
        }
        ok = true
        try AtomicWrite.fsyncDirectory(dir)
    }
}
