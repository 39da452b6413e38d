import Foundation
import TestSupport

/// The built executables (`.build/debug`).
enum Tool {
    static let productsDirectory = Executables.productsDirectory(holding: "st-interop")

    /// Runs `tool args` in `dir` to completion; returns its exit status and stdout + stderr.
    static func run(_ tool: String, _ args: [String], in dir: URL) throws -> (status: Int32, output: String) {
        try Executables.run(productsDirectory.appendingPathComponent(tool), args, in: dir)
    }
}

/// The package root.
let repoRoot = Executables.packageRoot

/// A fresh temporary directory; the caller removes it.
func tempDir(_ tag: String = #function) throws -> URL {
    let dir = FileManager.default.temporaryDirectory
        .appendingPathComponent("commands-\(tag.filter { $0.isLetter })-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
}
