import Foundation

/// An advisory `flock(2)` held for the life of the object (or the process: the kernel drops it
/// when the process dies, even by `kill -9`, so a crash never leaves a stale lock).
public final class FileLock {
    public let path: String
    private let fd: Int32

    /// Takes the lock without waiting, or returns nil when another process holds it.
    /// `shared`: several shared holders coexist; an exclusive holder excludes everyone.
    /// `wait`: block until available instead of returning nil.
    public init?(path: String, shared: Bool = false, wait: Bool = false) throws {
        let dir = (path as NSString).deletingLastPathComponent
        do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
            throw StageError.io(path: dir, operation: "create lock directory", errno: (error as NSError).code == 0 ? EIO : Int32(EACCES))
        }
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        if fd < 0 { throw StageError.io(path: path, operation: "open lock file", errno: errno) }
        var op = shared ? LOCK_SH : LOCK_EX
        if !wait { op |= LOCK_NB }
        // Without `wait`, a busy lock is retried for about 100 ms before giving up: a process that forks a child
        // (posix_spawn) while it holds a lock shares the lock's open file description with that child until the
        // child's exec closes it (O_CLOEXEC), so a lock released just before can look busy for that instant.
        var retries = wait ? 0 : 5
        while flock(fd, op) != 0 {
            if errno == EINTR && wait { continue }
            let e = errno
            if e == EWOULDBLOCK && retries > 0 { retries -= 1; usleep(20_000); continue }
            close(fd)
            if e == EWOULDBLOCK || e == EINTR { return nil }
            throw StageError.io(path: path, operation: "flock", errno: e)
        }
        self.path = path
        self.fd = fd
    }

    deinit { close(fd) }
}
