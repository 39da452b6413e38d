import Foundation

/// The package's built executables, for tests that spawn them.
public enum Executables {
    /// The package root, from this file's path (Tests/TestSupport/Executables.swift).
    public static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The products directory (`.build/debug`): the directory of the running test binary, or one of its
    /// parents, when it holds the executable `marker`, else `<package>/.build/debug`.
    public static func productsDirectory(holding marker: String) -> URL {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<4 {
            if FileManager.default.isExecutableFile(atPath: dir.appendingPathComponent(marker).path) { return dir }
            dir = dir.deletingLastPathComponent()
        }
        return packageRoot.appendingPathComponent(".build/debug")
    }

    /// Runs `executable args` in `dir` to completion; returns its exit status and stdout + stderr (written
    /// to a log file in `dir` named after the executable, so a large output cannot block the pipe).
    public static func run(_ executable: URL, _ args: [String], in dir: URL) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = executable
        p.arguments = args
        p.currentDirectoryURL = dir
        let log = dir.appendingPathComponent("\(executable.lastPathComponent)-\(UUID().uuidString.prefix(8)).log")
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
