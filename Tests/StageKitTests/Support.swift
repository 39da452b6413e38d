import Foundation
import Testing
import TestSupport

/// Helpers for tests that spawn the built executables (`fake-stage`, `inspect`).
enum Tool {
    /// The products directory (`.build/debug`).
    static let productsDirectory = Executables.productsDirectory(holding: "fake-stage")

    static func url(_ name: String) -> URL { productsDirectory.appendingPathComponent(name) }
}

/// A spawned process whose stdout/stderr go to files (so a test can poll them while it runs).
final class Spawned {
    let process = Process()
    let out: URL, err: URL

    init(_ tool: String, _ args: [String], in dir: URL) throws {
        let id = UUID().uuidString.prefix(8)
        out = dir.appendingPathComponent("\(tool)-\(id).out")
        err = dir.appendingPathComponent("\(tool)-\(id).err")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        process.executableURL = Tool.url(tool)
        process.arguments = args
        process.currentDirectoryURL = dir
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
    }

    var stdout: String { (try? String(contentsOf: out, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOf: err, encoding: .utf8)) ?? "" }

    /// Waits for exit; returns the exit status (128+signal when killed by a signal).
    @discardableResult
    func wait() -> Int32 {
        process.waitUntilExit()
        return process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
    }

    func signal(_ sig: Int32) { kill(process.processIdentifier, sig) }

    /// Polls stderr until it contains `text` or the process exits (or 20 s pass).
    func waitForStderr(_ text: String) -> Bool {
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if stderr.contains(text) { return true }
            if !process.isRunning { return stderr.contains(text) }
            usleep(10_000)
        }
        return false
    }
}

struct Result {
    let status: Int32
    let stdout: String
    let stderr: String
}

/// A temporary working directory with a config file, deleted at the end of the test.
final class Sandbox {
    let dir: URL
    var runDir: URL { dir.appendingPathComponent("run") }
    var config: URL { dir.appendingPathComponent("test.toml") }

    init(count: Int = 12, extra: String = "") throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("stagekit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try writeConfig(count: count, extra: extra)
    }

    func writeConfig(count: Int, content: String = "hello", suffix: String = "consumed", extra: String = "") throws {
        try """
        [run]
        name = "test"
        seed = 1

        [fake-stage.produce]
        count = \(count)
        content = "\(content)"
        \(extra)
        [fake-stage.consume]
        suffix = "\(suffix)"
        [fake-stage.tally]
        """.write(to: config, atomically: true, encoding: .utf8)
    }

    deinit { try? FileManager.default.removeItem(at: dir) }

    func common(_ extra: [String] = []) -> [String] {
        ["--config", config.path, "--run-dir", runDir.path, "--lease", "0.5"] + extra
    }

    func spawn(_ stage: String, _ extra: [String] = []) throws -> Spawned {
        try Spawned("fake-stage", [stage] + common(extra), in: dir)
    }

    func run(_ stage: String, _ extra: [String] = []) throws -> Result {
        let p = try spawn(stage, extra)
        let status = p.wait()
        return Result(status: status, stdout: p.stdout, stderr: p.stderr)
    }

    func inspect(_ args: [String], withRunDir: Bool = true) throws -> Result {
        let p = try Spawned("inspect", args + (withRunDir ? ["--run-dir", runDir.path] : []), in: dir)
        let status = p.wait()
        return Result(status: status, stdout: p.stdout, stderr: p.stderr)
    }

    func artifact(_ stage: String, _ name: String) -> URL {
        runDir.appendingPathComponent("artifacts/\(stage)/\(name)")
    }
}
