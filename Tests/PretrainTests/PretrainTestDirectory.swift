import Foundation
import Testing
import TestSupport

/// A temporary directory holding one pipeline config (`t.toml`), where a test runs the `pretrain` executable
/// into run directories named by the test (`a`, `b`, ...).
struct PretrainTestDirectory {
    let dir: URL
    var config: URL { dir.appendingPathComponent("t.toml") }

    init(prefix: String, toml: String) throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try toml.write(to: config, atomically: true, encoding: .utf8)
    }

    func remove() { try? FileManager.default.removeItem(at: dir) }

    /// `pretrain <what>` on the config into run directory `run`; its status and output (the log goes to stderr).
    func pretrain(_ what: String, run: String, _ extra: [String] = []) throws -> (status: Int32, stderr: String) {
        try JudgeStageTests.pretrain([what, "--config", config.path, "--run-dir", dir.appendingPathComponent(run).path] + extra, in: dir)
    }

    func output(_ run: String, _ stage: String, _ name: String) -> URL {
        dir.appendingPathComponent("\(run)/artifacts/\(stage)/\(name)")
    }

    /// `from` import of run `trained`'s `<base>.safetensors` + `<base>.json` (copied into `shipped/`) into run
    /// `imported`: the same bytes; then with the shipped weights' last byte flipped, the import into run `refused`
    /// fails (65) naming the SHA-256 check and the file.
    func expectImportRoundTrip(_ what: String, stage: String, base: String, trained: String, imported: String, refused: String,
                               sourceLocation: SourceLocation = #_sourceLocation) throws {
        let files = ["\(base).safetensors", "\(base).json"]
        let shipped = dir.appendingPathComponent("shipped")
        try FileManager.default.createDirectory(at: shipped, withIntermediateDirectories: true)
        for f in files { try FileManager.default.copyItem(at: output(trained, stage, f), to: shipped.appendingPathComponent(f)) }
        let ok = try pretrain(what, run: imported, ["--set", "from=\"\(shipped.path)\""])
        #expect(ok.status == 0 && ok.stderr.contains("record verified"), "\(ok.stderr)", sourceLocation: sourceLocation)
        for f in files {
            #expect(try Data(contentsOf: output(imported, stage, f)) == Data(contentsOf: output(trained, stage, f)), "\(f)",
                    sourceLocation: sourceLocation)
        }
        let w = shipped.appendingPathComponent(files[0])
        var bytes = try Data(contentsOf: w)
        bytes[bytes.count - 1] ^= 0xFF
        try bytes.write(to: w)
        let no = try pretrain(what, run: refused, ["--set", "from=\"\(shipped.path)\""])
        #expect(no.status == 65 && no.stderr.contains("SHA-256") && no.stderr.contains(files[0]), "\(no.status): \(no.stderr)",
                sourceLocation: sourceLocation)
    }
}
