import Foundation
import Testing
import TestSupport

/// Helpers for tests that spawn the built executables (`fake-stage`, `inspect`).
enum Tool {
    /// The products directory (`.build/debug`).
    static let productsDirectory = Executables.productsDirectory(holding: "fake-stage")

    static func url(_ name: String) -> URL { productsDirectory.appendingPathComponent(name) }
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
        try Spawned(Tool.url("fake-stage"), [stage] + common(extra), in: dir)
    }

    func run(_ stage: String, _ extra: [String] = []) throws -> Result {
        let p = try spawn(stage, extra)
        let status = p.wait()
        return Result(status: status, stdout: p.stdout, stderr: p.stderr)
    }

    func inspect(_ args: [String], withRunDir: Bool = true) throws -> Result {
        let p = try Spawned(Tool.url("inspect"), args + (withRunDir ? ["--run-dir", runDir.path] : []), in: dir)
        let status = p.wait()
        return Result(status: status, stdout: p.stdout, stderr: p.stderr)
    }

    func artifact(_ stage: String, _ name: String) -> URL {
        runDir.appendingPathComponent("artifacts/\(stage)/\(name)")
    }
}
