import Checkpoint
import Diffusion
import ErrorKinds
import Generation
import Models
import Text
import Upstream

/// Problems with dpo-train's own inputs (pairs, pool images, quality maps); each names the file or key and
/// the stage that should fix it. Missing or edited upstream artifacts and bad pretraining records are
/// `UpstreamArtifacts`' and Generation's errors (exit 66 and 65).
enum DPOTrainError: Error, CustomStringConvertible {
    case badPairs(path: String, detail: String)
    case missingQualityMap(key: String, hint: String)
    case badImage(path: String, detail: String)

    var description: String {
        switch self {
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
    /// A quality map patch-quality did not produce is missing input (66); a pairs file or image that does
    /// not read as its contract is bad data (65).
    var errorKind: ErrorKind {
        switch self {
        case .missingQualityMap: return .missingInput
        case .badPairs, .badImage: return .badData
        }
    }
}

/// The frozen models of dpo-train: the personalized generator the pretrain stages made
/// (`UpstreamModels.generator`), taken apart, and the adapter preference training starts from.
struct LoadedModels {
    /// The text encoder the U-Net was trained with: its own tuned tower when its record names one, else CLIP's.
    let textEncoder: TextEncoder
    let unet: UNet2DConditionModel
    let resampler: Resampler
    /// pretrain-adapter's adapter (`image_proj.*` + every `to_k_ip`/`to_v_ip`, without the reference
    /// encoder's `image_encoder.*`): the policy's start and the frozen reference model.
    let adapter: SafeTensorsFile
    let adapterPath: String
    /// What the resampler reads of a reference: the adapter's own convolutional tower, or CLIP's
    /// vision tower at the record's block. Frozen here: preference training changes only the adapter.
    let referenceEncoder: any ReferenceEncoder
    /// The project tokenizer, checked against the CLIP record's words.
    let tokenizer: WordTokenizer
    /// The latent-diffusion autoencoder the U-Net was trained with (nil = pixel space): preference losses
    /// then compare noise predictions on its scaled latents, and quality maps are resized to the latent grid.
    let vae: AutoencoderKL?
    /// The U-Net record's DDPM schedule (the default when the record predates `noise`): the one the
    /// base model was trained and is sampled with, so preference losses noise images the same way.
    let schedule: NoiseSchedule
    /// Image side in pixels (the reference encoder's input; the pool's images).
    let resolution: Int

    static func load(_ up: UpstreamModels) throws -> LoadedModels {
        let g = try up.generator()
        guard let encoder = g.imageEncoder, let resampler = g.resampler else {
            preconditionFailure("UpstreamModels.generator always loads pretrain-adapter's adapter")
        }
        encoder.setRequiresGrad(false)
        g.vae?.setRequiresGrad(false)
        let adapterPath = up.artifacts.url(try up.artifacts.artifact("adapter.safetensors", of: "pretrain-adapter")).path
        return LoadedModels(textEncoder: g.textEncoder, unet: g.unet, resampler: resampler,
                            adapter: Generator.adapterFile(unet: g.unet, resampler: resampler), adapterPath: adapterPath,
                            referenceEncoder: encoder, tokenizer: g.tokenizer, vae: g.vae, schedule: g.schedule, resolution: g.resolution)
    }
}
