import Checkpoint
import Diffusion
import ErrorKinds
import Foundation
import Manifest
import Models
import NN
import Random
import StageKit
import Text

/// The subset of the pretraining record (`<name>.json`, kind `record`, written by `pretrain`) that
/// dpo-train reads: model configs, the resampler's input block, the tokenizer's words.
struct PretrainRecordSubset: Decodable {
    var clip: CLIPConfig?
    var unet: UNetConfig?
    var resampler: ResamplerConfig?
    var imageEncoderLayer: Int?
    var referenceEncoder: ResNetConfig?
    /// The U-Net's own tuned text tower (pretrain-unet `train_text_encoder`), a file beside it.
    var textEncoderFile: String?
    var tokenizerWords: [String]?
    var resolution: Int?
    var noise: NoiseConfig?
    /// The latent-diffusion autoencoder: in a U-Net record the one it denoises; in pretrain-vae's its own.
    var vae: AutoencoderConfig?
}

/// Problems with dpo-train's inputs; each names the file or key and the stage that should fix it.
enum DPOTrainError: Error, CustomStringConvertible {
    case missingArtifact(stage: String, name: String)
    case badRecord(path: String, key: String, hint: String)
    case badPairs(path: String, detail: String)
    case missingQualityMap(key: String, hint: String)
    case badImage(path: String, detail: String)

    var description: String {
        switch self {
        case let .missingArtifact(stage, name):
            return "dpo-train: upstream stage \(stage) recorded no \(name); hint: run `make stage STAGE=\(stage)` first"
        case let .badRecord(path, key, hint):
            return "dpo-train: \(path): record key `\(key)` missing or invalid; \(hint)"
        case let .badPairs(path, detail):
            return "dpo-train: \(path): \(detail); hint: rerun score-and-pair"
        case let .missingQualityMap(key, hint):
            return "dpo-train: no quality map for pair \(key); \(hint)"
        case let .badImage(path, detail):
            return "dpo-train: \(path): \(detail); hint: rerun generate-pool"
        }
    }
}

extension DPOTrainError: ClassifiedError {
    /// Something upstream did not produce is missing input (66); a record, pairs file or image that does
    /// not read as its contract is bad data (65).
    var errorKind: ErrorKind {
        switch self {
        case .missingArtifact, .missingQualityMap: return .missingInput
        case .badRecord, .badPairs, .badImage: return .badData
        }
    }
}

/// Finds upstream artifacts by file name and reads them verified against the manifest.
struct Upstream {
    let runner: StageRunner
    let byStage: [String: [ArtifactRecord]]

    init(runner: StageRunner, stages: [String]) throws {
        self.runner = runner
        var m: [String: [ArtifactRecord]] = [:]
        for s in stages { m[s] = try runner.upstreamOutputs(s) }
        byStage = m
    }

    /// The declared upstream stages, plus pretrain-vae when the U-Net is a latent one (its record names
    /// an autoencoder), so the autoencoder's files enter the fingerprint and are read verified.
    static func forStage(_ runner: StageRunner) throws -> Upstream {
        let declared = try Upstream(runner: runner, stages: runner.definition.upstream)
        guard try declared.record("pretrain-unet", "unet.json").0.vae != nil else { return declared }
        return try Upstream(runner: runner, stages: runner.definition.upstream + ["pretrain-vae"])
    }

    var all: [ArtifactRecord] { byStage.keys.sorted().flatMap { byStage[$0]! } }

    func artifact(_ stage: String, named name: String) throws -> ArtifactRecord {
        guard let a = byStage[stage]?.first(where: { ($0.relativePath as NSString).lastPathComponent == name }) else {
            throw DPOTrainError.missingArtifact(stage: stage, name: name)
        }
        return a
    }

    func data(_ a: ArtifactRecord) throws -> Data {
        try runner.readVerified(a, upstream: String(a.relativePath.split(separator: "/").dropFirst().first ?? ""))
    }

    func url(_ a: ArtifactRecord) -> URL { runner.layout.root.appendingPathComponent(a.relativePath) }

    func record(_ stage: String, _ name: String) throws -> (PretrainRecordSubset, String) {
        let a = try artifact(stage, named: name)
        do { return (try JSONDecoder().decode(PretrainRecordSubset.self, from: try data(a)), url(a).path) } catch let e as StageError {
            throw e
        } catch {
            throw DPOTrainError.badRecord(path: url(a).path, key: "(whole record)", hint: "not a pretraining record: \(error)")
        }
    }

    func safetensors(_ stage: String, _ name: String) throws -> (SafeTensorsFile, String) {
        let a = try artifact(stage, named: name)
        return (try SafeTensors.parse(try data(a), path: url(a).path), url(a).path)
    }
}

/// The frozen models of dpo-train, loaded from the pretrain stages' checkpoints and records.
struct LoadedModels {
    let clip: CLIPModel
    /// The text encoder the U-Net was trained with: its own tuned tower when its record names one, else CLIP's.
    let textEncoder: TextEncoder
    let unet: UNet2DConditionModel
    let resampler: Resampler
    let adapter: SafeTensorsFile
    let adapterPath: String
    /// What the resampler reads of a reference: the adapter's own convolutional tower, or CLIP's
    /// vision tower at the record's block. Frozen here: preference training changes only the adapter.
    let referenceEncoder: any ReferenceEncoder
    let tokenizer: WordTokenizer
    /// The latent-diffusion autoencoder the U-Net was trained with (nil = pixel space): preference losses
    /// then compare noise predictions on its scaled latents, and quality maps are resized to the latent grid.
    let vae: AutoencoderKL?
    /// The U-Net record's DDPM schedule (the default when the record predates `noise`): the one the
    /// base model was trained and is sampled with, so preference losses noise images the same way.
    let schedule: NoiseSchedule

    static func load(_ up: Upstream) throws -> LoadedModels {
        let (clipRec, clipRecPath) = try up.record("pretrain-clip", "clip.json")
        let (unetRec, unetRecPath) = try up.record("pretrain-unet", "unet.json")
        let (adRec, adRecPath) = try up.record("pretrain-adapter", "adapter.json")
        guard let clipCfg = clipRec.clip else {
            throw DPOTrainError.badRecord(path: clipRecPath, key: "clip", hint: "rerun pretrain-clip")
        }
        guard let unetCfg = unetRec.unet else {
            throw DPOTrainError.badRecord(path: unetRecPath, key: "unet", hint: "rerun pretrain-unet")
        }
        guard let resCfg = adRec.resampler else {
            throw DPOTrainError.badRecord(path: adRecPath, key: "resampler", hint: "rerun pretrain-adapter")
        }
        guard let words = clipRec.tokenizerWords ?? adRec.tokenizerWords else {
            throw DPOTrainError.badRecord(path: clipRecPath, key: "tokenizerWords", hint: "rerun pretrain-clip")
        }
        let clip = try CLIPModel(config: clipCfg, key: RNGKey(seed: 0))
        let (clipFile, clipPath) = try up.safetensors("pretrain-clip", "clip.safetensors")
        try clip.loadStrict(clipFile, path: clipPath)
        var textEncoder = clip.textModel
        if let name = unetRec.textEncoderFile {
            // Verified against the manifest by `up.safetensors`, as every upstream artifact.
            let (file, path) = try up.safetensors("pretrain-unet", name)
            textEncoder = try TextEncoder(config: clipCfg.text, key: RNGKey(seed: 0))
            try textEncoder.loadStrict(standalone: file, path: path)
        }
        let unet = try UNet2DConditionModel(config: unetCfg, key: RNGKey(seed: 0))
        let (unetFile, unetPath) = try up.safetensors("pretrain-unet", "unet.safetensors")
        // The U-Net checkpoint may or may not hold the (untrained) image branch; the adapter sets it.
        var base = unetFile
        let ipKeys = Set(unet.imageProjectionParameters().map(\.0))
        for (k, p) in unet.imageProjectionParameters() where base.tensors[k] == nil {
            base.tensors[k] = TensorData(shape: p.shape, values: p.value.scalars)
        }
        for k in base.tensors.keys where !ipKeys.contains(k) && unet.parameterShapes()[k] == nil { base.tensors[k] = nil }
        try unet.loadStrict(base, path: unetPath)
        let noise = unetRec.noise ?? NoiseConfig()
        if let problem = noise.problem {
            throw DPOTrainError.badRecord(path: unetRecPath, key: "noise", hint: "\(problem); rerun pretrain-unet")
        }
        let schedule = noise.schedule
        let resampler = try Resampler(config: resCfg, key: RNGKey(seed: 0))
        let (adapterFile, adapterPath) = try up.safetensors("pretrain-adapter", "adapter.safetensors")
        var adapter = adapterFile
        let encoder: any ReferenceEncoder
        if let rc = adRec.referenceEncoder {
            let conv = try ConvReferenceEncoder(config: rc, key: RNGKey(seed: 0))
            var own = SafeTensorsFile()
            for (k, v) in adapter.tensors where k.hasPrefix("image_encoder.") {
                own.tensors[String(k.dropFirst("image_encoder.".count))] = v
                adapter.tensors[k] = nil
            }
            try conv.loadStrict(own, path: adapterPath)
            encoder = conv
        } else {
            let layer = adRec.imageEncoderLayer ?? max(1, clipCfg.vision.depth - 1)
            guard (1...clipCfg.vision.depth).contains(layer) else {
                throw DPOTrainError.badRecord(path: adRecPath, key: "imageEncoderLayer", hint: "\(layer) is outside 1...\(clipCfg.vision.depth); rerun pretrain-adapter")
            }
            encoder = ViTReferenceEncoder(vit: clip.visionModel, layer: layer)
        }
        guard resCfg.embeddingDim == encoder.tokenWidth else {
            throw DPOTrainError.badRecord(path: adRecPath, key: "resampler", hint: "it reads \(resCfg.embeddingDim)-wide tokens, the reference encoder gives \(encoder.tokenWidth); rerun pretrain-adapter")
        }
        encoder.setRequiresGrad(false)
        encoder.train(false)
        let tokenizer = WordTokenizer(phrases: words.filter { !WordTokenizer.specials.contains($0) })
        guard tokenizer.words == words else {
            throw DPOTrainError.badRecord(path: clipRecPath, key: "tokenizerWords",
                                          hint: "not a sorted word list after the four specials; rerun pretrain-clip")
        }
        var vae: AutoencoderKL? = nil
        if let want = unetRec.vae {
            let (vaeRec, vaeRecPath) = try up.record("pretrain-vae", "vae.json")
            guard vaeRec.vae == want else {
                throw DPOTrainError.badRecord(path: vaeRecPath, key: "vae",
                                              hint: "it is not the autoencoder the U-Net was trained with (config or scaling factor); rerun pretrain-unet")
            }
            let model = try AutoencoderKL(config: want, key: RNGKey(seed: 0))
            let (file, path) = try up.safetensors("pretrain-vae", "vae.safetensors")
            try model.loadStrict(file, path: path)
            model.setRequiresGrad(false)
            model.train(false)
            vae = model
        }
        return LoadedModels(clip: clip, textEncoder: textEncoder, unet: unet, resampler: resampler, adapter: adapter, adapterPath: adapterPath,
                            referenceEncoder: encoder, tokenizer: tokenizer, vae: vae, schedule: schedule)
    }
}
