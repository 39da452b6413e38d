import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Crash-safe file replacement: a reader sees the old file or the new one, never a mix.
///
/// Steps: write a temp file in the same directory (same filesystem, so rename is atomic),
/// fsync it, rename it over the target, fsync the directory so the rename is durable.
/// The temporary is `.<name>.tmp-<pid>@<host>-<random>`: Manifest's `AtomicWrite.removeLeftoverTemporaries` deletes it
/// after a crash only on the host that wrote it (`<host>` is spelled as `AtomicWrite.hostTag`), once `<pid>` is dead.
public enum AtomicFile {
    /// This host's name in temporary names: letters, digits and `.` kept, any other character `_`.
    public static let hostTag = String(ProcessInfo.processInfo.hostName.map {
        $0.isASCII && ($0.isLetter || $0.isNumber || $0 == ".") ? $0 : "_"
    })

    public static func write(_ data: Data, to url: URL) throws(CheckpointError) {
        let path = url.path
        let dir = url.deletingLastPathComponent().path
        let tmp = dir + "/." + url.lastPathComponent + ".tmp-\(getpid())@\(hostTag)-\(UInt32.random(in: 0...UInt32.max))"
        func fail(_ what: String) -> CheckpointError {
            .writeFailed(path: path, reason: "\(what): \(String(cString: strerror(errno)))")
        }
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard fd >= 0 else { throw fail("cannot create \(tmp)") }
        var ok = true
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            var done = 0
            while done < raw.count {
                let n = posixWrite(fd, raw.baseAddress! + done, raw.count - done)
                if n < 0 { if errno == EINTR { continue }; ok = false; return }
                done += n
            }
        }
        if !ok { let e = fail("write"); close(fd); unlink(tmp); throw e }
        if fsync(fd) != 0 { let e = fail("fsync"); close(fd); unlink(tmp); throw e }
        close(fd)
        if rename(tmp, path) != 0 { let e = fail("rename"); unlink(tmp); throw e }
        try syncDirectory(dir, for: path)
    }

    /// fsyncs a directory so a rename or creation inside it survives a crash.
    public static func syncDirectory(_ dir: String, for path: String? = nil) throws(CheckpointError) {
        let dfd = open(dir, O_RDONLY)
        guard dfd >= 0 else {
            throw .writeFailed(path: path ?? dir, reason: "cannot open directory \(dir) to fsync it")
        }
        defer { close(dfd) }
        if fsync(dfd) != 0 {
            throw .writeFailed(path: path ?? dir, reason: "fsync of directory \(dir): \(String(cString: strerror(errno)))")
        }
    }
}

@inline(__always)
private func posixWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.write(fd, p, n)
    #else
    return Darwin.write(fd, p, n)
    #endif
}
