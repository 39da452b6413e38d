import Autograd
import Checkpoint
import Diffusion
import Generation
import Models
import Objectives
import Pretrained
import TensorCore
import Text

/// The frozen models of preference training: the personalized generator the pretrain stages made
/// (`UpstreamModels.generator` or `.jedi` in a stage), taken apart, and the weights preference training starts from.
public struct PreferenceModels {
    /// What conditions the U-Net on the reference, and so what trains.
    public enum Conditioning {
        /// IP-Adapter: the resampler over `encoder`'s tokens (the adapter's own convolutional tower, or CLIP's vision
        /// tower at the record's block; frozen here), and pretrain-adapter's `adapter` (`image_proj.*` + every
        /// `to_k_ip`/`to_v_ip`, without the reference encoder's `image_encoder.*`): the policy's start and the frozen
        /// reference model.
        /// `trainable`: which U-Net weights train beside the image branch (their starting values are in `adapter` too).
        case adapter(resampler: Resampler, adapter: SafeTensorsFile, encoder: any ReferenceEncoder, trainable: AdapterTrainable)
        /// JeDi: the joint set [reference; image], the `trainable` part of its U-Net trained.
        case jedi(trainable: JeDiTrainable)
    }

    /// The text encoder the U-Net was trained with: its own tuned tower when its record names one, else CLIP's.
    public let textEncoder: TextEncoder
    public let unet: UNet2DConditionModel
    public let conditioning: Conditioning
    /// The file the policy's starting weights came from, as errors name it.
    public let weightsPath: String
    /// The project tokenizer, checked against the CLIP record's words.
    public let tokenizer: WordTokenizer
    /// The latent-diffusion autoencoder the U-Net was trained with (nil = pixel space): preference losses
    /// then compare noise predictions on its scaled latents, and quality maps are resized to the latent grid.
    public let vae: AutoencoderKL?
    /// The U-Net record's DDPM schedule: the one the base model was trained and is sampled with, so
    /// preference losses noise images the same way.
    public let schedule: NoiseSchedule
    /// Image side in pixels (the reference encoder's input; the pool's images).
    public let resolution: Int
    /// Train with reference attention (`Objectives.ReferenceCoupling`): every row denoised beside its pair's clean
    /// reference, as the samplers in mode `conditional` run the adapter (IP-Adapter only; JeDi always reads it).
    public let referenceAttention: Bool
    /// Under reference attention, the timestep the reference is diffused to (the adapter's `trainedReferenceTimestep`:
    /// min(k, t); nil = the row's own t).
    public let referenceTimestep: Int?

    /// The parts of `g`, which must carry pretrain-adapter's reference encoder and resampler; freezes the
    /// encoder and the autoencoder. `adapterPath`: the adapter's file. `referenceAttention`: couple each row to its
    /// reference (only mode `conditional` trains; `both` is a sampling choice). `trainable`: the U-Net weights that train
    /// beside the image branch; their values now (the pretrained adapter's) are the policy's start.
    public init(_ g: Generator, adapterPath: String, referenceAttention: Bool = false, trainable: AdapterTrainable = .image) {
        guard let encoder = g.imageEncoder, let resampler = g.resampler else {
            preconditionFailure("PreferenceModels: the generator has no adapter (UpstreamModels.generator always loads pretrain-adapter's)")
        }
        encoder.setRequiresGrad(false)
        g.vae?.setRequiresGrad(false)
        conditioning = .adapter(resampler: resampler, adapter: PretrainedModels.adapterFile(unet: g.unet, resampler: resampler, trainable: trainable),
                                encoder: encoder, trainable: trainable)
        weightsPath = adapterPath
        textEncoder = g.textEncoder
        unet = g.unet
        tokenizer = g.tokenizer
        vae = g.vae
        schedule = g.schedule
        resolution = g.resolution
        self.referenceAttention = referenceAttention
        referenceTimestep = referenceAttention ? g.trainedReferenceTimestep : nil
    }

    /// The parts of JeDi's generator `g` (`UpstreamModels.jedi`: a pixel-space JeDi U-Net); `path`: its weights' file.
    public init(jedi g: Generator, path: String, trainable: JeDiTrainable) {
        precondition(g.vae == nil && JeDiUNet.readsInpaintingInput(g.unet.config), "PreferenceModels: not a pixel-space JeDi generator")
        conditioning = .jedi(trainable: trainable)
        weightsPath = path
        textEncoder = g.textEncoder
        unet = g.unet
        tokenizer = g.tokenizer
        vae = nil
        schedule = g.schedule
        resolution = g.resolution
        referenceAttention = false
        referenceTimestep = nil
    }

    /// The base generator's kind.
    public var base: GeneratorBase {
        if case .jedi = conditioning { return .jedi }
        return .adapter
    }

    /// The empty prompt's text states `[1, Lt, D]` (the condition-dropout and CFG null text).
    public var nullText: Tensor {
        withNoGrad { textEncoder.forward([tokenizer.encode("")]).states.value }
    }

    /// The null image's tokens: the zero image's reference-encoder tokens `[1, N, E]` (the sampler's null tokens are
    /// the resampler of these); JeDi reads none, so a `[1, 1, 1]` zero stands in (`imageTokens`).
    public var nullImage: Tensor {
        switch conditioning {
        case .adapter(_, _, let encoder, _):
            return withNoGrad { encoder.tokens(Variable(Tensor(zeros: [1, 3, resolution, resolution]))).value }
        case .jedi:
            return Tensor(zeros: [1, 1, 1])
        }
    }

    /// The image-encoder tokens of a reference `[1, 3, S, S]`: `[1, N, E]`, or JeDi's `[1, 1, 1]` zero.
    public func imageTokens(_ reference: Tensor) -> Tensor {
        switch conditioning {
        case .adapter(_, _, let encoder, _): return withNoGrad { encoder.tokens(Variable(reference)).value }
        case .jedi: return Tensor(zeros: [1, 1, 1])
        }
    }

    /// The side of the grid the losses run on (and quality maps are resized to): the image's, or the latents'.
    public var lossSide: Int { vae.map { resolution / $0.config.downsampleFactor } ?? resolution }
}
