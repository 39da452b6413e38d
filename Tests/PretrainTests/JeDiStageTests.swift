import Checkpoint
import Foundation
import Pretrained
import Testing

/// `pretrain jedi` (issue 17 item 3) through the real executable on the smoke pipeline's tiny sizes: the JeDi U-Net
/// grown from the base, trained on same-subject sets, gated with the judge (resume is the Trainer's, `TrainerTests`).
@Suite(.serialized) struct JeDiStageTests {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("jedi-stage-\(UUID().uuidString)")

    func pretrain(_ what: String, _ extra: [String] = []) throws -> (status: Int32, stderr: String) {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return try JudgeStageTests.pretrain([what, "--config", UNetWarmStartTests.config.path, "--run-dir", dir.appendingPathComponent("r").path]
                                            + (what == "unet" ? ["--set", "gate_steps=0"] : []) + extra, in: dir)
    }

    var output: URL { dir.appendingPathComponent("r/artifacts/pretrain-jedi") }

    @Test func trainsFromTheBaseAndIsGated() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        // Without the base U-Net the stage names what to run.
        #expect(try pretrain("clip", ["--set", "steps=1"]).status == 0)
        let missing = try pretrain("jedi")
        #expect(missing.status != 0 && missing.stderr.contains("pretrain-unet"), "\(missing.status): \(missing.stderr)")
        #expect(try pretrain("unet", ["--set", "steps=1"]).status == 0)
        #expect(try pretrain("judge", ["--set", "steps=1"]).status == 0)
        let trained = try pretrain("jedi")
        #expect(trained.status == 0 && trained.stderr.contains("step 4/4"), "\(trained.stderr)")
        #expect(try pretrain("jedi").stderr.contains("up to date"))
        let record = try PretrainRecord.read(output.appendingPathComponent("jedi.json"))
        #expect(record.steps == 4 && record.unet?.inChannels == 7 && record.unet?.outChannels == 3)
        #expect(record.training["set_sizes"] == "[2, 3, 4]")
        // The gate ran: JeDi's own metric names, one subject x 4 scenes, and the sheet.
        #expect(record.metrics["jedi_samples"] == 4 && record.metrics["jedi_identity"] != nil && record.metrics["jedi_dino"] != nil,
                "\(record.metrics)")
        #expect(FileManager.default.fileExists(atPath: output.appendingPathComponent("jedi-samples.png").path))
        let weights = try SafeTensors.parse(Data(contentsOf: output.appendingPathComponent("jedi.safetensors")), path: "jedi")
        #expect(weights.tensors["conv_in.weight"]?.shape == [8, 7, 3, 3])
        // The new input channels trained away from the zeros they started at.
        let w = try #require(weights.tensors["conv_in.weight"]).values
        #expect((0..<8).contains { o in (0..<9).contains { w[(o * 7 + 0) * 9 + $0] != 0 } }, "the mask channel moved")
    }
}
