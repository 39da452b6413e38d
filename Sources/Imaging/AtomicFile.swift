#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Atomic file writes: the bytes go to a temporary file in the same directory, which is
/// fsynced and renamed over the target, then the directory is fsynced. A reader never sees
/// a half-written file; a crash leaves either the old file or the new one. The temporary is
/// `.<name>.tmp-<pid>@<host>-<random>`: Manifest's `AtomicWrite.removeLeftoverTemporaries` deletes it after a crash
/// only on the host that wrote it (`<host>` spelled as `AtomicWrite.hostTag`), once `<pid>` is dead.
public enum AtomicFile {
    /// This host's name in temporary names: letters, digits and `.` kept, any other character `_`.
    public static let hostTag = String(ProcessInfo.processInfo.hostName.map {
        $0.isASCII && ($0.isLetter || $0.isNumber || $0 == ".") ? $0 : "_"
    })

    public static func write(_ bytes: [UInt8], to path: String) throws {
        let dir = (path as NSString).deletingLastPathComponent
        let base = (path as NSString).lastPathComponent
        let tmp = (dir.isEmpty ? "" : dir + "/") + ".\(base).tmp-\(getpid())@\(hostTag)-\(UInt64.random(in: 0...UInt64.max))"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw ImagingError.unwritable(path: path, reason: String(cString: strerror(errno))) }
        var ok = true
        var reason = ""
        bytes.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let n = posixWrite(fd, raw.baseAddress! + done, raw.count - done)
                if n < 0 { if errno == EINTR { continue }; ok = false; reason = String(cString: strerror(errno)); return }
                done += n
            }
        }
        if ok && fsync(fd) != 0 { ok = false; reason = "fsync: " + String(cString: strerror(errno)) }
        close(fd)
        if ok && rename(tmp, path) != 0 { ok = false; reason = "rename: " + String(cString: strerror(errno)) }
        guard ok else { unlink(tmp); throw ImagingError.unwritable(path: path, reason: reason) }
        let dfd = open(dir.isEmpty ? "." : dir, O_RDONLY)
        if dfd >= 0 { _ = fsync(dfd); close(dfd) }
    }

    /// Reads a whole file; a missing or unreadable file is `ImagingError.unreadable`.
    public static func read(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            let exists = FileManager.default.fileExists(atPath: path)
            throw ImagingError.unreadable(path: path, reason: exists ? "permission denied or a directory" : "no such file")
        }
        return [UInt8](data)
    }
}

@inline(__always) private func posixWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.write(fd, p, n)
    #else
    return Darwin.write(fd, p, n)
    #endif
}
