import Foundation
import Generation
import Testing

/// `pretrain unet --set init_from=...`: a finished U-Net as the start, through the real executable on the
/// smoke pipeline's tiny sizes; a class embedding may be added, another shape is refused naming the record.
@Suite(.serialized) struct UNetWarmStartTests {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("unet-warm-\(UUID().uuidString)")
    static let config = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("pipelines/smoke.toml")

    func pretrain(_ what: String, run: String, _ extra: [String] = []) throws -> (status: Int32, stderr: String) {
        let noGate = what == "unet" ? ["--set", "gate_steps=0"] : []
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return try JudgeStageTests.pretrain([what, "--config", Self.config.path, "--run-dir", dir.appendingPathComponent(run).path]
                                            + noGate + extra, in: dir)
    }

    func unet(_ run: String) -> URL { dir.appendingPathComponent("\(run)/artifacts/pretrain-unet/unet.safetensors") }

    @Test func aWarmStartMayAddTheClassEmbeddingAndRefusesAnotherShape() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        for run in ["a", "b", "c"] { #expect(try pretrain("clip", run: run, ["--set", "steps=1"]).status == 0) }
        #expect(try pretrain("unet", run: "a", ["--set", "steps=2"]).status == 0)
        let first = try PretrainRecord.read(unet("a").deletingPathExtension().appendingPathExtension("json"))
        #expect(first.unet?.classEmbedInputDim == nil)

        let warm = try pretrain("unet", run: "b", ["--set", "steps=1", "--set", "class_embedding=true",
                                                   "--set", "init_from=\"\(unet("a").path)\""])
        #expect(warm.status == 0, "\(warm.stderr)")
        let rec = try PretrainRecord.read(unet("b").deletingPathExtension().appendingPathExtension("json"))
        #expect(rec.training["init_from_sha256"] == first.weightsSHA256)
        #expect(rec.unet?.classEmbedInputDim != nil)

        let other = try pretrain("unet", run: "c", ["--set", "steps=1", "--set", "channels=[8, 16, 32]",
                                                    "--set", "init_from=\"\(unet("a").path)\""])
        #expect(other.status == 65 && other.stderr.contains("unet.json") && other.stderr.contains("init_from"), "\(other.status): \(other.stderr)")
    }
}
