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

    /// Runs `executable args` in `dir` to completion; returns its exit status (128 + signal when killed by one) and
    /// stdout + stderr interleaved as written (one log file in `dir` named after the executable, so a large
    /// output cannot block a pipe).
    public static func run(_ executable: URL, _ args: [String], in dir: URL) throws -> (status: Int32, output: String) {
        let p = try Spawned(executable, args, in: dir, combinedOutput: true)
        let status = p.wait()
        return (status, p.stdout)
    }
}

/// The one process helper of the test targets: a spawned executable whose stdout and stderr go to files in `dir`
/// (so a test can poll them while it runs, and a large output cannot block a pipe). `Executables.run` runs one
/// to completion; tests that kill or watch a process keep the `Spawned`.
public final class Spawned: @unchecked Sendable {
    public let process = Process()
    public let out: URL, err: URL

    /// Starts `executable args` in `dir`; `environment` entries are added to this process's environment;
    /// with `combinedOutput`, stdout and stderr share one file (both `stdout` and `stderr` read it).
    public init(_ executable: URL, _ args: [String], in dir: URL, environment: [String: String] = [:],
                combinedOutput: Bool = false) throws {
        let name = "\(executable.lastPathComponent)-\(UUID().uuidString.prefix(8))"
        out = dir.appendingPathComponent(combinedOutput ? "\(name).log" : "\(name).out")
        err = combinedOutput ? out : dir.appendingPathComponent("\(name).err")
        for file in Set([out, err]) { _ = FileManager.default.createFile(atPath: file.path, contents: nil) }
        process.executableURL = executable
        process.arguments = args
        process.currentDirectoryURL = dir
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        let outHandle = try FileHandle(forWritingTo: out)
        process.standardOutput = outHandle
        process.standardError = combinedOutput ? outHandle : try FileHandle(forWritingTo: err)
        try process.run()
    }

    public var stdout: String { (try? String(contentsOf: out, encoding: .utf8)) ?? "" }
    public var stderr: String { (try? String(contentsOf: err, encoding: .utf8)) ?? "" }

    /// Waits for exit; returns the exit status (128 + signal when killed by a signal).
    @discardableResult
    public func wait() -> Int32 {
        process.waitUntilExit()
        return process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
    }

    public func signal(_ sig: Int32) { kill(process.processIdentifier, sig) }

    /// Polls stderr until it contains `text` or the process exits (or `timeout` seconds pass).
    public func waitForStderr(_ text: String, timeout: TimeInterval = 60) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if stderr.contains(text) { return true }
            if !process.isRunning { return stderr.contains(text) }
            usleep(10_000)
        }
        return false
    }
}
