import Foundation
import Pretrained
import Testing
import TestSupport

/// `pretrain gates` on a copy of the shipped checkpoints: `--adapter-only` measures the adapter's gate alone with the
/// sampling settings given (for sweeps, the scheduler among them), records them beside the metrics, and refuses contradictory flags.
@Suite(.serialized) struct GatesCommandTests {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gates-\(UUID().uuidString)")

    @Test func adapterOnlyMeasuresTheAdapterWithTheGivenSettings() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let ck = dir.appendingPathComponent("ck"), docs = dir.appendingPathComponent("docs")
        try FileManager.default.createDirectory(at: docs, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: Executables.packageRoot.appendingPathComponent("data/checkpoints"), to: ck)
        let args = ["gates", "--checkpoints", ck.path, "--docs", docs.path, "--adapter-only", "--subjects", "1", "--steps", "2",
                    "--guidance", "2", "--reference-attention", "off", "--ip-scale", "0.5"]
        let r = try JudgeStageTests.pretrain(args, in: dir)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("adapter adapter_identity") && !r.stderr.contains("judge ") && !r.stderr.contains("unet "), "\(r.stderr)")
        let record = try PretrainRecord.read(ck.appendingPathComponent("adapter.json"))
        #expect(record.metrics["adapter_samples"] == 4)
        #expect(record.training["gates_measured_with"] == "pretrain gates --steps 2 --guidance 2.0 --subjects 1 --ip-scale 0.5 --reference-attention off --reference-timestep 0")
        #expect(FileManager.default.fileExists(atPath: docs.appendingPathComponent("adapter-samples.png").path))
        #expect(!FileManager.default.fileExists(atPath: docs.appendingPathComponent("unet-samples.png").path))

        // (The shipped adapter reads the clean reference: its record's referenceTimestep 0 is named too.)
        // The other scheduler is named in the record; an unknown one is a usage error.
        let dpm = try JudgeStageTests.pretrain(Array(args.dropLast(2)) + ["--scheduler", "dpmpp-2m"], in: dir)
        #expect(dpm.status == 0, "\(dpm.stderr)")
        #expect(try PretrainRecord.read(ck.appendingPathComponent("adapter.json")).training["gates_measured_with"]
                == "pretrain gates --steps 2 --guidance 2.0 --subjects 1 --scheduler dpmpp-2m --reference-attention off --reference-timestep 0")
        #expect(try JudgeStageTests.pretrain(["gates", "--checkpoints", ck.path, "--scheduler", "dpm++"], in: dir).status == 64)

        // Reference attention is named in the record, and --per-sample writes one CSV row per sample.
        let csv = dir.appendingPathComponent("samples.csv")
        let ra = try JudgeStageTests.pretrain(Array(args.dropLast(4)) + ["--reference-attention", "conditional", "--per-sample", csv.path], in: dir)
        #expect(ra.status == 0, "\(ra.stderr)")
        #expect(try PretrainRecord.read(ck.appendingPathComponent("adapter.json")).training["gates_measured_with"]
                == "pretrain gates --steps 2 --guidance 2.0 --subjects 1 --reference-attention conditional --reference-timestep 0")
        let rows = try String(contentsOf: csv, encoding: .utf8).split(separator: "\n")
        #expect(rows.count == 5 && rows[0].hasPrefix("subject,background,") && rows[0].contains("identity"), "\(rows)")
        #expect(try JudgeStageTests.pretrain(["gates", "--checkpoints", ck.path, "--reference-attention", "on"], in: dir).status == 64)

        // The SDEdit diagnostic starts every sample from its real render; strength 0 gives the renders back, which the
        // judge reads as the subject in its scene.
        let sd = try JudgeStageTests.pretrain(Array(args.dropLast(4)) + ["--sdedit", "0", "--per-sample", csv.path], in: dir)
        #expect(sd.status == 0, "\(sd.stderr)")
        let sdRecord = try PretrainRecord.read(ck.appendingPathComponent("adapter.json"))
        #expect(sdRecord.training["gates_measured_with"]?.hasSuffix(" --sdedit 0.0") == true)
        #expect(sdRecord.metrics["adapter_scene"] == 1 && (sdRecord.metrics["adapter_category"] ?? 0) >= 0.75, "\(sdRecord.metrics)")
        #expect(try JudgeStageTests.pretrain(["gates", "--checkpoints", ck.path, "--adapter-only", "--sdedit", "1.5"], in: dir).status == 64)
        #expect(try JudgeStageTests.pretrain(["gates", "--checkpoints", ck.path, "--sdedit", "0.5"], in: dir).status == 64)

        #expect(try JudgeStageTests.pretrain(["gates", "--checkpoints", ck.path, "--judge-only", "--adapter-only"], in: dir).status == 64)
        #expect(try JudgeStageTests.pretrain(["gates", "--checkpoints", ck.path, "--ip-scale", "nan"], in: dir).status == 64)

        // Without --docs, a checkpoint directory other than data/checkpoints gets its own sheets (never ./docs).
        let scratch = dir.appendingPathComponent("scratch")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        let own = try JudgeStageTests.pretrain(["gates", "--checkpoints", ck.path, "--adapter-only", "--subjects", "1", "--steps", "2"],
                                               in: scratch)
        #expect(own.status == 0, "\(own.stderr)")
        #expect(FileManager.default.fileExists(atPath: ck.appendingPathComponent("adapter-samples.png").path))
        #expect(!FileManager.default.fileExists(atPath: scratch.appendingPathComponent("docs").path))
    }
}
