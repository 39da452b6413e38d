import Foundation

/// Crash-safe file replacement: write a temporary file in the destination's directory, fsync it,
/// rename it over the destination, fsync the directory. A reader sees the old file or the new one,
/// never a mix; after a crash a leftover temporary may remain, which
/// `removeLeftoverTemporaries(under:)` deletes at the next start (also those of the safetensors and
/// image writers, `.<name>.tmp-<pid>@<host>-<random>`, once their process is gone).
/// Temporary names: `.atomicwrite-<pid>@<host>-<random hex>-<file name>` (hidden, in the same directory), `<host>`
/// being `hostTag`: on storage shared by several hosts (shard journals), a pid says nothing about another host's
/// processes, so only this host's temporaries are ever judged by their pid. Names without `@<host>` (written before
/// the host was recorded) are taken as this host's.
public enum AtomicWrite {
    static let prefix = ".atomicwrite-"

    /// This host's name as temporary names carry it: letters, digits and `.` kept, any other character `_` (so the
    /// name holds no `-`, which ends the writer field). The Checkpoint and Imaging writers spell it the same way.
    public static let hostTag: String = tag(ProcessInfo.processInfo.hostName)

    static func tag(_ host: String) -> String {
        String(host.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == ".") ? $0 : "_" })
    }

    /// The writer field of this process's temporaries: `<pid>@<hostTag>`.
    static var writerField: String { "\(getpid())@\(hostTag)" }

    /// A fresh temporary's name for `fileName`, in the directory of the file it will replace.
    static func temporaryName(for fileName: String) -> String {
        "\(prefix)\(writerField)-\(String(UInt64.random(in: 0...UInt64.max), radix: 16))-\(fileName)"
    }

    /// Writes `data` to `url` atomically, creating missing parent directories.
    /// Throws `ManifestError.io` naming the file and the failed step.
    public static func write(_ data: Data, to url: URL) throws {
        let dir = url.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        } catch {
            throw ManifestError.io(path: dir.path, operation: "create directory", errno: errnoOf(error))
        }
        let temp = dir.appendingPathComponent(temporaryName(for: url.lastPathComponent))
        let fd = open(temp.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        if fd < 0 { throw ManifestError.io(path: temp.path, operation: "create temporary", errno: errno) }
        var ok = false
        defer { if !ok { unlink(temp.path) } }
        do {
            defer { close(fd) }
            try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
                var offset = 0
                while offset < raw.count {
                    let n = Foundation.write(fd, raw.baseAddress! + offset, raw.count - offset)
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw ManifestError.io(path: temp.path, operation: "write", errno: errno)
                    }
                    offset += n
                }
            }
            if fsync(fd) != 0 { throw ManifestError.io(path: temp.path, operation: "fsync", errno: errno) }
        }
        if rename(temp.path, url.path) != 0 {
            throw ManifestError.io(path: url.path, operation: "rename temporary into place", errno: errno)
        }
        ok = true
        try fsyncDirectory(dir)
    }

    /// Makes a rename or creation in `dir` durable.
    static func fsyncDirectory(_ dir: URL) throws {
        let dfd = open(dir.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd < 0 { throw ManifestError.io(path: dir.path, operation: "open directory for fsync", errno: errno) }
        defer { close(dfd) }
        if fsync(dfd) != 0 && errno != EINVAL {
            throw ManifestError.io(path: dir.path, operation: "fsync directory", errno: errno)
        }
    }

    /// Deletes AtomicWrite temporaries under `dir` (recursively) left by crashed writers, i.e. written on this host
    /// by a process id that is not alive. Temporaries of live processes (including this one) and every temporary
    /// another host wrote are kept, so running this while other shards write, here or on other hosts, is safe.
    /// Returns how many were deleted; a missing `dir` counts as none.
    @discardableResult
    public static func removeLeftoverTemporaries(under dir: URL) throws -> Int {
        guard let walker = FileManager.default.enumerator(at: dir, includingPropertiesForKeys: nil) else { return 0 }
        var removed = 0
        for case let url as URL in walker {
            let name = url.lastPathComponent
            if name.hasPrefix(prefix) {
                // A malformed name is nobody's: removed, as before hosts were recorded.
                if let w = writer(name) {
                    guard w.host == nil || w.host == hostTag, !processAlive(w.pid) else { continue }
                }
            } else {
                // The safetensors and image writers' temporaries (Checkpoint/Imaging `AtomicFile`):
                // `.<file name>.tmp-<pid>@<host>-<random>`, removed only when this host wrote them and their writer is dead.
                guard let w = fileTemporaryWriter(name), w.host == nil || w.host == hostTag, !processAlive(w.pid) else { continue }
            }
            if unlink(url.path) != 0 && errno != ENOENT {
                throw ManifestError.io(path: url.path, operation: "remove leftover temporary", errno: errno)
            }
            removed += 1
        }
        return removed
    }

    /// The writer (pid, and host when recorded) of an AtomicWrite temporary's name; nil if the name is malformed.
    static func writer(_ name: String) -> (pid: pid_t, host: String?)? {
        let rest = name.dropFirst(prefix.count)
        guard let dash = rest.firstIndex(of: "-") else { return nil }
        return parseWriter(rest[..<dash])
    }

    /// The writer of a `.<name>.tmp-<pid>[@<host>]-<random digits>` temporary (Checkpoint's and Imaging's atomic
    /// writers), nil for any other name.
    static func fileTemporaryWriter(_ name: String) -> (pid: pid_t, host: String?)? {
        guard name.hasPrefix("."), let r = name.range(of: ".tmp-", options: .backwards) else { return nil }
        let rest = name[r.upperBound...]
        guard let dash = rest.firstIndex(of: "-"), !rest[rest.index(after: dash)...].isEmpty,
              rest[rest.index(after: dash)...].allSatisfy(\.isNumber) else { return nil }
        return parseWriter(rest[..<dash])
    }

    /// `<pid>` or `<pid>@<host>`.
    private static func parseWriter(_ field: Substring) -> (pid: pid_t, host: String?)? {
        let parts = field.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false)
        guard let pid = pid_t(parts[0]) else { return nil }
        if parts.count == 1 { return (pid, nil) }
        return parts[1].isEmpty ? nil : (pid, String(parts[1]))
    }

    static func processAlive(_ pid: pid_t) -> Bool {
        pid > 0 && (kill(pid, 0) == 0 || errno == EPERM)
    }

    private static func errnoOf(_ error: Error) -> Int32 {
        ((error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError).map { Int32($0.code) } ?? EIO
    }
}
