import Checkpoint
import Foundation
import TestSupport
import Imaging
import Manifest
import Models
import NN
import Pretrained
import Random
import World

/// A run directory whose manifest holds finished upstream stages built here, so the two stages run
/// end to end without the real pretrain / generate-pool / score-and-pair:
/// - pretrain-vit: a random-init xs ViT (16x16, depth 3, 2 heads) as vit.safetensors + vit.json;
/// - generate-pool: `items` prompts, each pool/<key>/reference.png (clean background), gen-0/1.png
///   (textured backgrounds) and prompt.json; with `corruptKey`, that item's reference is not a PNG;
/// - score-and-pair: patchdpo-pairs.json with every (reference, generated) pair;
/// - pretrain-segmenter (when `segmenter` is given): segmenter.safetensors + its record segmenter.json.
final class StageFixture {
    let dir: URL
    var runDir: URL { dir.appendingPathComponent("run") }
    var config: URL { dir.appendingPathComponent("test.toml") }
    let vit: ViT

    static let toml = """
    [run]
    name = "t"
    seed = 3
    threads = 1

    [ssl-finetune-vit]
    epochs = 2
    batch_size = 4
    lr = 0.1
    loss_blocks = [2, 7]
    eval_blocks = [1, 2, 3, 12]
    checkpoint_every = 2
    hpatches_count = 1

    [patch-quality]
    block = 2
    heatmaps = 2
    auroc_samples = 3
    loss_resolution = 32
    """

    init(stages: Set<String> = ["pretrain-vit", "generate-pool", "score-and-pair"], items: Int = 3,
         corruptKey: String? = nil, epochs: Int = 2, withPairsFile: Bool = true, withViTFile: Bool = true,
         segmenter: Segmenter? = nil) throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("pq-\(UUID().uuidString)")
        vit = try ViT(config: .xs, key: RNGKey(seed: 21))
        try FileManager.default.createDirectory(at: runDir, withIntermediateDirectories: true)
        try Self.toml.replacingOccurrences(of: "epochs = 2", with: "epochs = \(epochs)")
            .write(to: config, atomically: true, encoding: .utf8)
        let db = try ManifestDB(path: runDir.appendingPathComponent("manifest.sqlite").path)
        let run = try db.ensureRun(name: "t", configHash: "fixture", codeVersion: "fixture")
        func stage(_ name: String, _ files: [(String, Data, String)]) throws {
            guard stages.contains(name) || (name == "pretrain-segmenter" && segmenter != nil) else { return }
            let id = try db.beginStageRun(run: run, stage: name, fingerprint: UUID().uuidString, inputs: [])
            var recs: [NewArtifact] = []
            for (rel, data, kind) in files {
                let url = runDir.appendingPathComponent("artifacts/\(name)/\(rel)")
                try AtomicWrite.write(data, to: url)
                recs.append(NewArtifact(kind: kind, relativePath: "artifacts/\(name)/\(rel)", sha256: SHA256.hex(data),
                                        bytes: Int64(data.count)))
            }
            _ = try db.recordArtifacts(stageRun: id, recs)
            try db.setStatus(stageRun: id, .done, error: nil)
        }
        try stage("pretrain-vit", (withViTFile ? [("vit.safetensors", SafeTensors.encode(vit.stateDict()), "checkpoint/vit")] : []) + [
            ("vit.json", Data(#"{"config":{"heads":2,"depth":3},"seed":21,"steps":0}"#.utf8), "record"),
        ])
        var pool: [(String, Data, String)] = []
        var pairs: [[String: Any]] = []
        for i in 0..<items {
            let key = String(format: "p%05d", i)
            let subject = Subject(category: ObjectCategory.allCases[i % ObjectCategory.allCases.count], instance: UInt64(i * 10 + 1))
            let ref = try Renderer.render(RenderRequest(subject: subject, scene: .clean, size: 16)).image
            let refData = key == corruptKey ? Data("this is not a PNG".utf8) : Data(try PNG.encode(ref))
            pool.append(("pool/\(key)/reference.png", refData, "reference"))
            var gens: [String] = []
            for k in 0..<2 {
                let scene = Scene(background: Background.textured[(i + k) % Background.textured.count], seed: UInt64(i * 7 + k))
                let img = try Renderer.render(RenderRequest(subject: subject, scene: scene, pose: .random(seed: UInt64(i), index: UInt64(k)), size: 16)).image
                pool.append(("pool/\(key)/gen-\(k).png", Data(try PNG.encode(img)), "generated"))
                gens.append("artifacts/generate-pool/pool/\(key)/gen-\(k).png")
            }
            pool.append(("pool/\(key)/prompt.json", Data(#"{"prompt":"a \#(subject.category.rawValue)"}"#.utf8), "prompt"))
            pairs.append(["key": key, "reference": "artifacts/generate-pool/pool/\(key)/reference.png", "generated": gens])
        }
        try stage("generate-pool", pool)
        if let segmenter {
            let weights = SafeTensors.encode(segmenter.stateDict())
            var rec = PretrainRecord(stage: "pretrain-segmenter", codeVersion: "fixture", seed: 1, steps: 0, resolution: 16,
                                     weightsFile: "segmenter.safetensors", weightsSHA256: SHA256.hex(weights))
            rec.segmenter = segmenter.config
            try stage("pretrain-segmenter", [("segmenter.safetensors", weights, "checkpoint/segmenter"),
                                             ("segmenter.json", try rec.encoded(), "record")])
        }
        try stage("score-and-pair", withPairsFile ? [
            ("patchdpo-pairs.json", try JSONSerialization.data(withJSONObject: ["pairs": pairs], options: [.sortedKeys]), "patchdpo-pairs"),
        ] : [("pairs.json", Data("[]".utf8), "pairs")])
    }

    deinit { try? FileManager.default.removeItem(at: dir) }

    func artifact(_ stage: String, _ name: String) -> URL { runDir.appendingPathComponent("artifacts/\(stage)/\(name)") }

    /// Runs a stage executable to completion.
    func run(_ tool: String, _ extra: [String] = []) throws -> (status: Int32, stdout: String, stderr: String) {
        let p = try Spawned(Tool.url(tool), ["--config", config.path, "--run-dir", runDir.path] + extra, in: dir)
        let status = p.wait()
        return (status, p.stdout, p.stderr)
    }
}

/// The products directory holding the stage executables (the test binary's, or <package>/.build/debug).
enum Tool {
    static let productsDirectory = Executables.productsDirectory(holding: "patch-quality")

    static func url(_ name: String) -> URL { productsDirectory.appendingPathComponent(name) }
}

