import Foundation

/// The automatic part of a stage's code version: SHA-256 (hex) over the sources of every module the stage's
/// executable links, computed at build time by the `CodeFingerprint` build plugin (`Plugins/`, tool
/// `code-fingerprint`) and compiled into the executable. Each file enters as its path relative to the package
/// root and its bytes, each written `<byte count>:<bytes>\n` after the tag `patchdpo-sources-v1\n`, files
/// sorted by path: the value depends on what the sources say and where they sit in the package, not on the
/// checkout's location, the order SwiftPM lists them in, or timestamps.
public enum SourceFingerprint {
    public struct File: Sendable {
        public let relativePath: String
        public let contents: [UInt8]
        public init(relativePath: String, contents: [UInt8]) { self.relativePath = relativePath; self.contents = contents }
    }

    public static func compute(_ files: [File]) -> String {
        var h = SHA256()
        func field<C: Collection>(_ bytes: C) where C.Element == UInt8 {
            h.update("\(bytes.count):".utf8)
            h.update(bytes)
            h.update("\n".utf8)
        }
        h.update("patchdpo-sources-v1\n".utf8)
        field(Array(String(files.count).utf8))
        for f in files.sorted(by: { $0.relativePath.utf8.lexicographicallyPrecedes($1.relativePath.utf8) }) {
            field(Array(f.relativePath.utf8))
            field(f.contents)
        }
        return h.finalizeHex()
    }

    /// `path` relative to `root` (both absolute, standardised); nil when `path` is not under `root`.
    public static func relative(_ path: String, to root: String) -> String? {
        let r = root.hasSuffix("/") ? root : root + "/"
        return path.hasPrefix(r) ? String(path.dropFirst(r.count)) : nil
    }
}
