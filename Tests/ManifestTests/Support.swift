import Foundation
@testable import Manifest

/// A fresh directory under the system temp dir, removed by `cleanup()`.
struct TempDir {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("manifest-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    var manifestPath: String { url.appendingPathComponent("manifest.sqlite").path }
    func cleanup() { try? FileManager.default.removeItem(at: url) }
}

/// A settable clock for lease tests (no sleeping). The lock makes it safe to share.
final class FakeClock: @unchecked Sendable {
    private let lock = NSLock()
    private var t: Double
    init(_ t: Double = 1_000_000) { self.t = t }
    func advance(_ dt: Double) { lock.lock(); t += dt; lock.unlock() }
    var now: Double { lock.lock(); defer { lock.unlock() }; return t }
    var closure: @Sendable () -> Double { { [self] in now } }
}

/// A manifest with one run and one running stage run.
func makeStage(_ db: ManifestDB, stage: String = "generate-pool", inputs: [Int64] = []) throws -> Int64 {
    let run = try db.ensureRun(name: "test", configHash: "c0", codeVersion: "v1")
    return try db.beginStageRun(run: run, stage: stage, fingerprint: "fp-\(stage)", inputs: inputs)
}

/// Writes `text` under the run directory and returns the artifact to record.
func writeArtifact(_ dir: URL, _ relative: String, _ text: String, kind: String = "png") throws -> NewArtifact {
    let data = Data(text.utf8)
    try AtomicWrite.write(data, to: dir.appendingPathComponent(relative))
    return NewArtifact(kind: kind, relativePath: relative, sha256: SHA256.hex(data), bytes: Int64(data.count))
}

func fileBytes(_ path: String) -> Data? { FileManager.default.contents(atPath: path) }
