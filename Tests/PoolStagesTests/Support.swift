import Checkpoint
import Diffusion
import Foundation
import Imaging
import Manifest
import Models
import NN
import Pretrained
import Random
import StageKit
import TestSupport
import World

/// The built executables (`.build/debug`).
enum Tool {
    static let productsDirectory = Executables.productsDirectory(holding: "generate-pool")

    /// Runs `tool args` to completion; returns (status, stdout + stderr).
    static func run(_ tool: String, _ args: [String], in dir: URL) throws -> (status: Int32, output: String) {
        try Executables.run(productsDirectory.appendingPathComponent(tool), args, in: dir)
    }
}

/// A temporary run directory with a config holding every section the pool stages and their fake
/// upstream stages read. xs models: 16 px images, width 16 everywhere, T = 100 noise schedule.
struct Sandbox {
    let dir: URL
    var run: URL { dir.appendingPathComponent("run") }
    var config: URL { dir.appendingPathComponent("pool.toml") }

    init(prompts: Int = 2) throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("poolstages-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let toml = """
        [run]
        name = "pooltest"
        seed = 5
        threads = 1
        [pretrain-vit]
        [pretrain-clip]
        [pretrain-unet]
        [pretrain-adapter]
        [pretrain-vae]
        [pretrain-segmenter]
        [patch-quality]
        [generate-pool]
        prompts = \(prompts)
        images_per_prompt = 2
        subjects_per_category = 2
        steps = 2
        guidance = 3.0
        [dpo-train]
        losses = ["diffusion-dpo", "dco"]
        steps = 2
        batch = 2
        checkpoint_every = 1
        [score-and-pair]
        w_vit_cls = 1.0
        w_clip_text = 1.0
        w_patch_quality = 0.5
        pq_block = 1
        min_gap = 0.0
        """
        try Data(toml.utf8).write(to: config)
    }

    var args: [String] { ["--run-dir", run.path, "--config", config.path] }

    func remove() { try? FileManager.default.removeItem(at: dir) }

    /// Runs a whole stage named `name` in-process (its section `[name]`, declaring `keys`), its body writing the outputs;
    /// `force`: a new stage run even when an earlier one is up to date.
    func fakeStage(_ name: String, keys: [ConfigKey] = [], force: Bool = false, body: (StageRunner) throws -> [NewArtifact]) throws {
        let def = StageDefinition(name: name, schema: ConfigSchema(section: name, keys: keys), sourceFingerprint: "test-1")
        let r = try StageRunner(def, options: try CommonOptions.parse(args + (force ? ["--force"] : [])))
        try r.runWhole(inputs: []) { _ in try body(r) }
    }

    /// Writes weights + record of a pretrain stage.
    static func write(_ r: StageRunner, _ base: String, kind: String, weights: SafeTensorsFile,
                      record: (inout PretrainRecord) -> Void) throws -> [NewArtifact] {
        let w = try r.writeArtifact(SafeTensors.encode(weights), name: "\(base).safetensors", kind: kind)
        var rec = PretrainRecord(stage: r.stage, codeVersion: "test-1", seed: 1, steps: 0, resolution: 16,
                                 weightsFile: "\(base).safetensors", weightsSHA256: w.sha256)
        record(&rec)
        return [w, try r.writeArtifact(try rec.encoded(), name: "\(base).json", kind: "record")]
    }

    /// The keys this sandbox's `[generate-pool]` holds, for a fake generate-pool reading the real section
    /// (a config section no stage reads is refused, so the fake cannot have one of its own).
    static let generatePoolKeys: [ConfigKey] = ["prompts", "images_per_prompt", "subjects_per_category", "steps"]
        .map { .integer($0, default: 1, doc: "") } + [ConfigKey("guidance", .float, default: .float(1), doc: "")]

    static let vision = ViTConfig(imageSize: 16, patchSize: 4, width: 16, depth: 2, heads: 2, mlpDim: 32)
    static let clipConfig = CLIPConfig(vision: vision, text: TextEncoderConfig(vocabSize: 128, maxLength: 12, width: 16, depth: 1,
                                                                                heads: 2, mlpDim: 32), embedDim: 16)

    /// pretrain-vit and pretrain-clip outputs: random-init xs models.
    func fakeJudges() throws {
        try fakeStage("pretrain-vit") { r in
            let vit = try ViT(config: Sandbox.vision, key: RNGKey(seed: 21))
            return try Sandbox.write(r, "vit", kind: "checkpoint/vit", weights: vit.stateDict()) { $0.vit = Sandbox.vision }
        }
        try fakeStage("pretrain-clip") { r in
            let clip = try CLIPModel(config: Sandbox.clipConfig, key: RNGKey(seed: 22))
            return try Sandbox.write(r, "clip", kind: "checkpoint/clip", weights: clip.stateDict()) {
                $0.clip = Sandbox.clipConfig
                $0.tokenizerWords = WorldText.tokenizer().words
            }
        }
    }

    /// pretrain-unet and pretrain-adapter outputs: random-init xs U-Net and adapter.
    func fakeGenerator() throws {
        let unetConfig = UNetConfig(blockOutChannels: [8, 16], layersPerBlock: 1, crossAttentionDim: 16, heads: 2)
        let rc = ResamplerConfig(embeddingDim: 16, dim: 16, depth: 1, heads: 2, dimHead: 8, numQueries: 4, outputDim: 16)
        let unet = try UNet2DConditionModel(config: unetConfig, key: RNGKey(seed: 23))
        try fakeStage("pretrain-unet") { r in
            try Sandbox.write(r, "unet", kind: "checkpoint/unet", weights: unet.stateDict()) {
                $0.unet = unetConfig
                $0.noise = NoiseConfig(trainSteps: 100, betaStart: 1e-3, betaEnd: 0.05)
            }
        }
        try fakeStage("pretrain-adapter") { r in
            let res = try Resampler(config: rc, key: RNGKey(seed: 24))
            return try Sandbox.write(r, "adapter", kind: "checkpoint/adapter",
                                     weights: PretrainedModels.adapterFile(unet: unet, resampler: res)) {
                $0.resampler = rc
                $0.imageEncoderLayer = 1
            }
        }
    }

    /// A latent generator: pretrain-vae (xs autoencoder, 16 px -> 8x8x4), a U-Net on its latents with its
    /// own tuned text tower (`unet-text-model.safetensors`, named in its record) and an adapter with its own
    /// convolutional reference encoder (`image_encoder.*`, record `referenceEncoder`).
    func fakeLatentGenerator() throws {
        let vaeConfig = AutoencoderConfig(latentChannels: 4, blockOutChannels: [8, 16], scalingFactor: 0.8)
        let vae = try AutoencoderKL(config: vaeConfig, key: RNGKey(seed: 25))
        try fakeStage("pretrain-vae") { r in
            try Sandbox.write(r, "vae", kind: "checkpoint/vae", weights: vae.stateDict()) { $0.vae = vaeConfig }
        }
        let unetConfig = UNetConfig(inChannels: 4, outChannels: 4, blockOutChannels: [8, 16], layersPerBlock: 1,
                                    crossAttentionDim: 16, heads: 2, classEmbedInputDim: 16)
        let unet = try UNet2DConditionModel(config: unetConfig, key: RNGKey(seed: 26))
        try fakeStage("pretrain-unet") { r in
            let tower = try TextEncoder(config: Sandbox.clipConfig.text, key: RNGKey(seed: 29))
            let t = try r.writeArtifact(SafeTensors.encode(tower.standaloneFile()), name: "unet-text-model.safetensors",
                                        kind: "checkpoint/text-model")
            return try Sandbox.write(r, "unet", kind: "checkpoint/unet", weights: unet.stateDict()) {
                $0.unet = unetConfig
                $0.vae = vaeConfig
                $0.noise = NoiseConfig(trainSteps: 100, betaStart: 1e-3, betaEnd: 0.05)
                $0.textEncoderFile = "unet-text-model.safetensors"
                $0.textEncoderSHA256 = t.sha256
            } + [t]
        }
        let ec = ResNetConfig(imageSize: 16, widths: [8, 16], blocks: [1, 1], groups: 4)
        let rc = ResamplerConfig(embeddingDim: 16, dim: 16, depth: 1, heads: 2, dimHead: 8, numQueries: 4, outputDim: 16)
        try fakeStage("pretrain-adapter") { r in
            let enc = try ConvReferenceEncoder(config: ec, key: RNGKey(seed: 27))
            let res = try Resampler(config: rc, key: RNGKey(seed: 28))
            return try Sandbox.write(r, "adapter", kind: "checkpoint/adapter",
                                     weights: PretrainedModels.adapterFile(unet: unet, resampler: res, encoder: enc)) {
                $0.resampler = rc
                $0.referenceEncoder = ec
            }
        }
    }

    /// The file of artifact `name` of `stage`.
    func artifact(_ stage: String, _ name: String) -> URL { run.appendingPathComponent("artifacts/\(stage)/\(name)") }

    /// Runs `stage` again (a new stage run, now its newest) recording `<base>.safetensors` = `weights` and the
    /// current `<base>.json` after `edit`, with the new weights' SHA-256.
    func rerecord(_ stage: String, _ base: String, weights: SafeTensorsFile, edit: (inout PretrainRecord) -> Void = { _ in }) throws {
        var rec = try PretrainRecord.read(artifact(stage, "\(base).json"))
        try fakeStage(stage, force: true) { r in
            let w = try r.writeArtifact(SafeTensors.encode(weights), name: "\(base).safetensors", kind: "checkpoint/\(base)")
            rec.weightsSHA256 = w.sha256
            edit(&rec)
            return [w, try r.writeArtifact(try rec.encoded(), name: "\(base).json", kind: "record")]
        }
    }

    func file(_ relative: String) -> Data? {
        FileManager.default.contents(atPath: run.appendingPathComponent(relative).path)
    }
}
