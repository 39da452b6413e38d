import Foundation

/// The built executables (`.build/debug`), found like StageKitTests' `Tool`.
enum Tool {
    static let productsDirectory: URL = {
        let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = exe.deletingLastPathComponent()
        for _ in 0..<4 {
            if FileManager.default.isExecutableFile(atPath: dir.appendingPathComponent("st-interop").path) { return dir }
            dir = dir.deletingLastPathComponent()
        }
        return repoRoot.appendingPathComponent(".build/debug")
    }()

    /// Runs `tool args` in `dir` to completion; returns its exit status and stdout + stderr.
    static func run(_ tool: String, _ args: [String], in dir: URL) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = productsDirectory.appendingPathComponent(tool)
        p.arguments = args
        p.currentDirectoryURL = dir
        let log = dir.appendingPathComponent("\(tool)-\(UUID().uuidString.prefix(8)).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let h = try FileHandle(forWritingTo: log)
        p.standardOutput = h
        p.standardError = h
        try p.run()
        p.waitUntilExit()
        try h.close()
        return (p.terminationStatus, (try? String(contentsOf: log, encoding: .utf8)) ?? "")
    }
}

/// The package root, from this file's path.
let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// A fresh temporary directory; the caller removes it.
func tempDir(_ tag: String = #function) throws -> URL {
    let dir = FileManager.default.temporaryDirectory
        .appendingPathComponent("commands-\(tag.filter { $0.isLetter })-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
}
