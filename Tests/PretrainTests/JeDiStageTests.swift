import Checkpoint
import Foundation
import Pretrained
import Testing
import Training

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

    /// Issue 17 item 1: `pretrain jedi-sets` writes each set through the manifest (member PNGs + record), appends
    /// when `count` grows, and `pretrain jedi` with sets = "stage" trains on them (an input: new sets retrain it);
    /// without the stage's sets it names what to run, and set sizes the sets lack are refused by key.
    @Test func trainsOnSetsWrittenThroughTheManifest() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try pretrain("clip", ["--set", "steps=1"]).status == 0)
        #expect(try pretrain("unet", ["--set", "steps=1"]).status == 0)
        let stage = ["--set", "sets=\"stage\"", "--set", "gate_steps=0", "--set", "set_sizes=[2, 3, 4, 5]"]
        let missing = try pretrain("jedi", stage)
        #expect(missing.status != 0 && missing.stderr.contains("pretrain-jedi-sets"), "\(missing.status): \(missing.stderr)")
        let wrote = try pretrain("jedi-sets")
        #expect(wrote.status == 0 && wrote.stderr.contains("done 6"), "\(wrote.stderr)")
        let sets = dir.appendingPathComponent("r/artifacts/pretrain-jedi-sets/sets")
        let record = try JSONDecoder().decode(JeDiSetRecord.self, from: Data(contentsOf: sets.appendingPathComponent("set-00003.json")))
        #expect([2, 5].contains(record.spec.size) && record.files.count == record.spec.size && record.prompts.count == record.spec.size)
        for f in record.files { #expect(FileManager.default.fileExists(atPath: sets.appendingPathComponent("set-00003/" + f).path)) }
        let trained = try pretrain("jedi", stage)
        #expect(trained.status == 0 && trained.stderr.contains("training on 6 stored sets") && trained.stderr.contains("step 4/4"),
                "\(trained.stderr)")
        #expect(try PretrainRecord.read(output.appendingPathComponent("jedi.json")).training["sets"] == "stage")
        #expect(try pretrain("jedi", stage).stderr.contains("up to date"))
        let refused = try pretrain("jedi", ["--set", "sets=\"stage\"", "--set", "gate_steps=0", "--set", "set_sizes=[3, 4]"])
        #expect(refused.status == 65 && refused.stderr.contains("set_sizes"), "\(refused.status): \(refused.stderr)")
        let appended = try pretrain("jedi-sets", ["--set", "count=8"])
        #expect(appended.status == 0 && appended.stderr.contains("done 2"), "\(appended.stderr)")
        let retrained = try pretrain("jedi", stage)
        #expect(retrained.status == 0 && retrained.stderr.contains("training on 8 stored sets"), "\(retrained.stderr)")
    }

}
