import Foundation

extension ManifestDB {
    /// Checks every current artifact record (the newest per path) against its file under
    /// `runDirectory`: the file exists, has the recorded size and SHA-256. Returns the bad ones,
    /// in path order (empty when all verify). Hashes only files whose size matches.
    public func verify(runDirectory: URL) throws -> [VerifyProblem] {
        try currentArtifacts().compactMap { a in
            let url = runDirectory.appendingPathComponent(a.relativePath)
            var st = stat()
            if stat(url.path, &st) != 0 {
                return VerifyProblem(artifact: a, kind: errno == ENOENT || errno == ENOTDIR ? .missing : .unreadable(errno: errno))
            }
            if Int64(st.st_size) != a.bytes {
                return VerifyProblem(artifact: a, kind: .sizeMismatch(recorded: a.bytes, actual: Int64(st.st_size)))
            }
            let actual: String
            do {
                actual = try SHA256.hexOfFile(url)
            } catch ManifestError.io(_, _, let code) {
                return VerifyProblem(artifact: a, kind: .unreadable(errno: code))
            }
            return actual == a.sha256 ? nil : VerifyProblem(artifact: a, kind: .hashMismatch(recorded: a.sha256, actual: actual))
        }
    }
}
