import Checkpoint
import Foundation
import Generation
import Models
import NN
import Random
import Testing

/// The two judge stages through the real `pretrain` executable: tiny training, the records the bench
/// reads, and `from` import with its SHA-256 check.
@Suite(.serialized) struct JudgeStageTests {
    static let toml = """
    [run]
    name = "t"
    seed = 5
    threads = 1

    [pretrain-dino-judge]
    steps = 2
    batch = 4
    warmup = 1
    checkpoint_every = 0
    resolution = 16
    subjects_per_category = 2
    width = 16
    depth = 2
    heads = 2
    mlp = 32
    gate_subjects_per_category = 2
    gate_queries = 1

    [pretrain-clip-judge]
    steps = 2
    batch = 4
    warmup = 1
    checkpoint_every = 0
    resolution = 16
    subjects_per_category = 2
    vision_width = 16
    vision_depth = 2
    vision_heads = 2
    vision_mlp = 32
    text_width = 16
    text_depth = 1
    text_heads = 2
    text_mlp = 32
    embed_dim = 8
    gate_batch = 8
    """

    let dir: URL
    var config: URL { dir.appendingPathComponent("t.toml") }

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("judges-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try Self.toml.write(to: config, atomically: true, encoding: .utf8)
    }

    func pretrain(_ what: String, run: String, _ extra: [String] = []) throws -> (status: Int32, stderr: String) {
        let p = Process()
        p.executableURL = Self.products.appendingPathComponent("pretrain")
        p.arguments = [what, "--config", config.path, "--run-dir", dir.appendingPathComponent(run).path] + extra
        let err = dir.appendingPathComponent("\(what)-\(run).err")
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        p.standardError = try FileHandle(forWritingTo: err)
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        return (p.terminationStatus, (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }

    func output(_ run: String, _ stage: String, _ name: String) -> URL {
        dir.appendingPathComponent("\(run)/artifacts/\(stage)/\(name)")
    }

    static let products: URL = {
        var d = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<4 {
            if FileManager.default.isExecutableFile(atPath: d.appendingPathComponent("pretrain").path) { return d }
            d = d.deletingLastPathComponent()
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/debug")
    }()

    @Test func dinoJudgeTrainsThenImportsWithItsRecordCheckedAndRefusesAnEditedFile() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let trained = try pretrain("dino-judge", run: "a")
        #expect(trained.status == 0, "\(trained.stderr)")
        let stage = "pretrain-dino-judge"
        let rec = try PretrainRecord.read(output("a", stage, "dino-judge.json"))
        #expect(rec.stage == stage && rec.classes == nil && rec.weightsFile == "dino-judge.safetensors")
        let cfg = try #require(rec.vit)
        #expect(cfg.classes == nil && cfg.width == 16 && cfg.depth == 2)
        // The record carries the stage's data keys too, not only the optimiser settings; never the import key.
        #expect(rec.training["subjects_per_category"] == "2" && rec.training["resolution"] == "16", "\(rec.training)")
        #expect(rec.training["from"] == nil && rec.training["checkpoint_every"] == nil)
        #expect(rec.metrics["instance_top1_chance"] == 1.0 / 26 && rec.metrics["instance_top1_same_category_chance"] == 0.5)
        #expect(rec.metrics["instance_top1"] != nil && rec.metrics["instance_top1_same_category"] != nil)
        // The judge loads as a plain ViT (no head, no projection keys).
        let vit = try ViT(config: cfg, key: RNGKey(seed: 0))
        let file = try SafeTensors.read(output("a", stage, "dino-judge.safetensors"))
        try vit.loadStrict(file, path: "dino-judge.safetensors")

        // Ship the two files, import them into a fresh run: same bytes.
        let shipped = dir.appendingPathComponent("shipped")
        try FileManager.default.createDirectory(at: shipped, withIntermediateDirectories: true)
        for f in ["dino-judge.safetensors", "dino-judge.json"] {
            try FileManager.default.copyItem(at: output("a", stage, f), to: shipped.appendingPathComponent(f))
        }
        let imported = try pretrain("dino-judge", run: "b", ["--set", "from=\"\(shipped.path)\""])
        #expect(imported.status == 0 && imported.stderr.contains("record verified"), "\(imported.stderr)")
        for f in ["dino-judge.safetensors", "dino-judge.json"] {
            #expect(try Data(contentsOf: output("b", stage, f)) == Data(contentsOf: output("a", stage, f)), "\(f)")
        }
        // An edited weights file is refused, naming the file.
        let w = shipped.appendingPathComponent("dino-judge.safetensors")
        var bytes = try Data(contentsOf: w)
        bytes[bytes.count - 1] ^= 0xFF
        try bytes.write(to: w)
        let refused = try pretrain("dino-judge", run: "c", ["--set", "from=\"\(shipped.path)\""])
        #expect(refused.status != 0 && refused.stderr.contains("SHA-256") && refused.stderr.contains("dino-judge.safetensors"),
                "\(refused.stderr)")
    }

    @Test func clipJudgeRecordsItsTokenizerAndAttributeGates() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let trained = try pretrain("clip-judge", run: "a")
        #expect(trained.status == 0, "\(trained.stderr)")
        let rec = try PretrainRecord.read(output("a", "pretrain-clip-judge", "clip-judge.json"))
        let cfg = try #require(rec.clip)
        #expect(cfg.text.maxLength == 20 && rec.tokenizerWords == WorldText.tokenizer(maxLength: 20).words)
        for k in ["retrieval_top1", "retrieval_top1_exact", "attribute_retrieval_top1", "attribute_retrieval_top1_exact"] {
            let v = try #require(rec.metrics[k], "\(k)")
            #expect((0...1).contains(v))
        }
        #expect(rec.metrics["retrieval_chance"] == 1.0 / 8)
        let clip = try CLIPModel(config: cfg, key: RNGKey(seed: 0))
        try clip.loadStrict(try SafeTensors.read(output("a", "pretrain-clip-judge", "clip-judge.safetensors")), path: "clip-judge.safetensors")
    }
}
