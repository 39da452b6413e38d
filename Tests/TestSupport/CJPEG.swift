import Foundation

/// JPEG test files from an independent encoder: libjpeg-turbo's `cjpeg` command (Debian
/// libjpeg-turbo-progs, installed by scripts/bootstrap), so the decoder under test is compared with
/// pixels another program encoded, not with its own round trip.
public enum CJPEG {
    public struct Missing: Error, CustomStringConvertible {
        public var description: String {
            "cjpeg is not on PATH (\(ProcessInfo.processInfo.environment["PATH"] ?? "")): run scripts/bootstrap, "
                + "which installs libjpeg-turbo-progs, then rerun the tests"
        }
    }

    public struct Failed: Error, CustomStringConvertible {
        public var status: Int32
        public var stderr: String
        public var description: String { "cjpeg exited \(status): \(stderr)" }
    }

    /// The path of `cjpeg`, or `Missing` (a test error telling to run scripts/bootstrap, never a skip).
    public static func executable() throws -> String {
        let dirs = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init) + ["/usr/bin"]
        for d in dirs where FileManager.default.isExecutableFile(atPath: d + "/cjpeg") { return d + "/cjpeg" }
        throw Missing()
    }

    /// Encodes binary PPM (P6) or PGM (P5) bytes with `cjpeg args...` and returns the JPEG bytes.
    public static func encode(_ pnm: [UInt8], _ args: [String] = ["-quality", "95"]) throws -> [UInt8] {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cjpeg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent("in.pnm"), output = dir.appendingPathComponent("out.jpg")
        try Data(pnm).write(to: input)
        let p = try Spawned(URL(fileURLWithPath: try executable()), args + ["-outfile", output.path, input.path], in: dir)
        let status = p.wait()
        guard status == 0 else { throw Failed(status: status, stderr: p.stderr) }
        return [UInt8](try Data(contentsOf: output))
    }
}
