import Checkpoint
import Foundation
import Models
import NN
import Pretrained
import Random
import Testing
import TestSupport
import World

/// The two judge stages through the real `pretrain` executable: tiny training, the records the bench
/// reads, and `from` import with its SHA-256 check.
@Suite(.serialized) struct JudgeStageTests {
    static let toml = """
    [run]
    name = "t"
    seed = 5
    threads = 1

    [pretrain-judge]
    steps = 2
    batch = 4
    warmup = 1
    checkpoint_every = 0
    resolution = 16
    subjects_per_category = 2
    subject_offset = 5
    widths = [8, 16]
    blocks = [1, 1]
    groups = 4
    embed_dim = 8
    clip_dim = 8
    per_category = 2
    gate_subjects_per_category = 2
    gate_views = 2
    curve_every = 1
    """

    let box: PretrainTestDirectory
    var dir: URL { box.dir }

    init() throws { box = try PretrainTestDirectory(prefix: "judges", toml: Self.toml) }

    func pretrain(_ what: String, run: String, _ extra: [String] = []) throws -> (status: Int32, stderr: String) {
        try box.pretrain(what, run: run, extra)
    }

    /// Runs the `pretrain` executable with `args` in `dir`; its status and output (the log goes to stderr).
    static func pretrain(_ args: [String], in dir: URL) throws -> (status: Int32, stderr: String) {
        let r = try Executables.run(Executables.productsDirectory(holding: "pretrain").appendingPathComponent("pretrain"), args, in: dir)
        return (r.status, r.output)
    }

    func output(_ run: String, _ stage: String, _ name: String) -> URL { box.output(run, stage, name) }

    @Test func judgeTrainsRecordsItsCurveAndGatesThenImportsWithItsRecordCheckedAndRefusesAnEditedFile() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let trained = try pretrain("judge", run: "a")
        #expect(trained.status == 0, "\(trained.stderr)")
        #expect(trained.stderr.contains("curve at step 1") && trained.stderr.contains("gate accuracy_category"), "\(trained.stderr)")
        let stage = "pretrain-judge"
        let rec = try PretrainRecord.read(output("a", stage, "judge.json"))
        #expect(rec.stage == stage && rec.weightsFile == "judge.safetensors")
        let cfg = try #require(rec.judge)
        #expect(cfg.tower.widths == [8, 16] && cfg.tower.imageSize == 16 && cfg.heads.count == 8 && cfg.text.maxLength == 20)
        #expect(rec.tokenizerWords == WorldText.tokenizer(maxLength: 20).words)
        // The record carries the stage's data keys (where the judge's subjects came from); never the import key.
        #expect(rec.training["subjects_per_category"] == "2" && rec.training["subject_offset"] == "5", "\(rec.training)")
        #expect(rec.training["from"] == nil && rec.training["checkpoint_every"] == nil)
        for k in ["accuracy_category", "accuracy_decal", "dino_auroc", "dino_top1", "clip_i_same", "clip_t_top1"] {
            #expect(rec.metrics[k] != nil, "\(k)")
        }
        let judge = try WorldJudge(config: cfg, key: RNGKey(seed: 0))
        try judge.loadStrict(try SafeTensors.read(output("a", stage, "judge.safetensors")), path: "judge.safetensors")

        // Ship the two files, import them into a fresh run: same bytes; an edited weights file is refused, naming the file.
        try box.expectImportRoundTrip("judge", stage: stage, base: "judge", trained: "a", imported: "b", refused: "c")

        // A warm start from run a's judge records where it started; another model shape is refused naming the record.
        let warm = try pretrain("judge", run: "e", ["--set", "init_from=\"\(output("a", stage, "judge.safetensors").path)\"", "--set", "steps=1"])
        #expect(warm.status == 0, "\(warm.stderr)")
        let wrec = try PretrainRecord.read(output("e", stage, "judge.json"))
        #expect(wrec.training["init_from_sha256"] == rec.weightsSHA256 && rec.training["init_from_sha256"] == nil)
        let other = try pretrain("judge", run: "f", ["--set", "init_from=\"\(output("a", stage, "judge.safetensors").path)\"",
                                                     "--set", "embed_dim=4"])
        #expect(other.status == 65 && other.stderr.contains("judge.json") && other.stderr.contains("init_from"), "\(other.status): \(other.stderr)")
    }

    @Test func aDivergingRunStopsWithADataErrorNamingTheStep() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try pretrain("judge", run: "d", ["--set", "lr=1e30", "--set", "steps=6", "--set", "grad_clip=0"])
        #expect(r.status == 65 && r.stderr.contains("diverged at step"), "\(r.status): \(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: output("d", "pretrain-judge", "judge.json").path))
    }
}
