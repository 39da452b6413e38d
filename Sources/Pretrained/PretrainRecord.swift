import Diffusion
import Foundation
import Models

/// The JSON record written next to every pretrained checkpoint (`vit.json`, `clip.json`, `unet.json`,
/// `adapter.json`, kind `record`): what was trained (model configs), how (seed, steps, settings),
/// with which code, the quality-gate metrics, and the SHA-256 of the weights file it describes.
/// A consumer builds the model from the configs here and loads the weights by name.
public struct PretrainRecord: Codable, Sendable, Equatable {
    /// `pretrain-vit`, `pretrain-clip`, `pretrain-unet` or `pretrain-adapter`.
    public var stage: String
    public var codeVersion: String
    public var seed: UInt64
    public var steps: Int
    /// World image side in pixels.
    public var resolution: Int
    /// The weights file this record describes (name in the same directory) and its SHA-256.
    public var weightsFile: String
    public var weightsSHA256: String
    public var vit: ViTConfig?
    public var clip: CLIPConfig?
    public var unet: UNetConfig?
    public var resampler: ResamplerConfig?
    /// The bench's judge (`pretrain-judge`): tower, heads, embeddings, text tower.
    public var judge: JudgeConfig?
    /// The latent-diffusion autoencoder (`pretrain-vae`), with its measured latent scaling factor.
    public var vae: AutoencoderConfig?
    /// The foreground segmenter of generated images (`pretrain-segmenter`; patch-quality's `segmenter` estimator).
    public var segmenter: SegmenterConfig?
    /// Block of the CLIP image tower whose tokens feed the resampler (adapter records).
    public var imageEncoderLayer: Int?
    /// The adapter's own convolutional reference encoder (`image_encoder.*` in the adapter file);
    /// nil = CLIP's vision tower at `imageEncoderLayer`.
    public var referenceEncoder: ResNetConfig?
    /// The U-Net's own text encoder (pretrain-unet with `train_text_encoder`): a file in the same
    /// directory holding a CLIP text tower under HF `CLIPTextModel` keys (`text_model.*`) of the CLIP
    /// record's text config, and its SHA-256. nil = the generator reads CLIP's `text_model` as trained.
    /// An adapter trained together with its U-Net (pretrain-adapter `unet_lr_scale` > 0): the adapter file
    /// then also holds every U-Net weight under the U-Net's keys, and loading it replaces the base U-Net's
    /// weights (the personalized generator's U-Net; the text-to-image gate keeps the base one). nil = false.
    public var adapterTunesUNet: Bool?
    /// An adapter trained with reference attention (pretrain-adapter `reference_attention`): the mode its
    /// generator samples with by default ("conditional", `Generation.ReferenceAttention`); nil = off.
    public var referenceAttention: String?
    /// The timestep its reference was diffused to under reference attention (pretrain-adapter `reference_timestep`):
    /// min(k, t) at each step, 0 = the clean reference; nil = the step's own t.
    public var referenceTimestep: Int?
    public var textEncoderFile: String?
    public var textEncoderSHA256: String?
    public var noise: NoiseConfig?
    /// Category names in class-index order (ViT head).
    public var classes: [String]?
    /// The tokenizer's word list (`WorldText.tokenizer().words`) the text encoder was trained with.
    public var tokenizerWords: [String]?
    /// Training settings as text (batch, lr, warmup, ...), for the record only.
    public var training: [String: String]
    /// Final metrics and quality gates (e.g. `val_top1`, `retrieval_top1`, `category_accuracy`).
    public var metrics: [String: Double]

    public init(stage: String, codeVersion: String, seed: UInt64, steps: Int, resolution: Int,
                weightsFile: String, weightsSHA256: String, training: [String: String] = [:], metrics: [String: Double] = [:]) {
        self.stage = stage; self.codeVersion = codeVersion; self.seed = seed; self.steps = steps
        self.resolution = resolution; self.weightsFile = weightsFile; self.weightsSHA256 = weightsSHA256
        self.training = training; self.metrics = metrics
    }

    /// Pretty, key-sorted JSON (stable bytes for the same record).
    /// Throws instead of returning an empty file (a non-finite metric cannot be JSON).
    public func encoded() throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .prettyPrinted]
        return try e.encode(self)
    }

    /// Reads a record; the error names the file.
    public static func read(_ url: URL) throws(PretrainedError) -> PretrainRecord {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw .missingCheckpoint(path: url.path)
        }
        return try decode(data, path: url)
    }

    /// A record from the bytes of `path` (e.g. already read and verified against the manifest).
    public static func decode(_ data: Data, path: URL) throws(PretrainedError) -> PretrainRecord {
        do { return try JSONDecoder().decode(PretrainRecord.self, from: data) } catch {
            throw .badCheckpoint(path: path.path, reason: "not a pretraining record: \(error)")
        }
    }
}
