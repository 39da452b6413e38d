import Foundation
import Manifest
import Pretrained
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

    /// `train_text_encoder`: the tuned tower is written beside the U-Net and named (with its SHA-256) in
    /// unet.json; a warm start from that U-Net, or from a training checkpoint directory of the run, carries
    /// the tower and refuses to drop it silently; `from` imports it with the U-Net.
    @Test func theTunedTextTowerTravelsWithTheUNet() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        for run in ["a", "b", "c", "d", "e"] { #expect(try pretrain("clip", run: run, ["--set", "steps=1"]).status == 0) }
        let a = try pretrain("unet", run: "a", ["--set", "steps=3", "--set", "checkpoint_every=1", "--set", "train_text_encoder=true",
                                                 "--set", "ema_decay=0.9"])
        #expect(a.status == 0, "\(a.stderr)")
        let rec = try PretrainRecord.read(unet("a").deletingPathExtension().appendingPathExtension("json"))
        let towerURL = unet("a").deletingLastPathComponent().appendingPathComponent("unet-text-model.safetensors")
        #expect(rec.textEncoderFile == "unet-text-model.safetensors")
        #expect(rec.textEncoderSHA256 == SHA256.hex(try Data(contentsOf: towerURL)))

        let dropped = try pretrain("unet", run: "b", ["--set", "steps=1", "--set", "init_from=\"\(unet("a").path)\""])
        #expect(dropped.status == 65 && dropped.stderr.contains("train_text_encoder"), "\(dropped.status): \(dropped.stderr)")
        let kept = try pretrain("unet", run: "c", ["--set", "steps=1", "--set", "train_text_encoder=true",
                                                   "--set", "init_from=\"\(unet("a").path)\""])
        #expect(kept.status == 0, "\(kept.stderr)")

        let checkpoint = unet("a").deletingLastPathComponent().appendingPathComponent("checkpoints/step-00000002")
        #expect(FileManager.default.fileExists(atPath: checkpoint.appendingPathComponent("ema.safetensors").path)
                || FileManager.default.fileExists(atPath: checkpoint.appendingPathComponent("model.safetensors").path))
        let fromCheckpoint = try pretrain("unet", run: "d", ["--set", "steps=1", "--set", "train_text_encoder=true",
                                                             "--set", "init_from=\"\(checkpoint.path)\""])
        #expect(fromCheckpoint.status == 0, "\(fromCheckpoint.stderr)")
        let d = try PretrainRecord.read(unet("d").deletingPathExtension().appendingPathExtension("json"))
        #expect(d.training["init_from_sha256"] != nil && d.textEncoderFile != nil)

        let imported = try pretrain("unet", run: "e", ["--set", "from=\"\(unet("a").deletingLastPathComponent().path)\""])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(try Data(contentsOf: unet("e").deletingLastPathComponent().appendingPathComponent("unet-text-model.safetensors"))
                == Data(contentsOf: towerURL))
    }
}
