import Autograd
import Checkpoint
import Diffusion
import Generation
import Models
import Pretrained
import TensorCore
import Text

/// The frozen models of preference training: the personalized generator the pretrain stages made
/// (`UpstreamModels.generator` in a stage), taken apart, and the adapter preference training starts from.
public struct PreferenceModels {
    /// The text encoder the U-Net was trained with: its own tuned tower when its record names one, else CLIP's.
    public let textEncoder: TextEncoder
    public let unet: UNet2DConditionModel
    public let resampler: Resampler
    /// pretrain-adapter's adapter (`image_proj.*` + every `to_k_ip`/`to_v_ip`, without the reference
    /// encoder's `image_encoder.*`): the policy's start and the frozen reference model.
    public let adapter: SafeTensorsFile
    /// The adapter's file, as errors name it.
    public let adapterPath: String
    /// What the resampler reads of a reference: the adapter's own convolutional tower, or CLIP's
    /// vision tower at the record's block. Frozen here: preference training changes only the adapter.
    public let referenceEncoder: any ReferenceEncoder
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
    /// reference, as the samplers in mode `conditional` run the adapter.
    public let referenceAttention: Bool

    /// The parts of `g`, which must carry pretrain-adapter's reference encoder and resampler; freezes the
    /// encoder and the autoencoder. `adapterPath`: the adapter's file. `referenceAttention`: couple each row to its
    /// reference (only mode `conditional` trains; `both` is a sampling choice).
    public init(_ g: Generator, adapterPath: String, referenceAttention: Bool = false) {
        guard let encoder = g.imageEncoder, let resampler = g.resampler else {
            preconditionFailure("PreferenceModels: the generator has no adapter (UpstreamModels.generator always loads pretrain-adapter's)")
        }
        encoder.setRequiresGrad(false)
        g.vae?.setRequiresGrad(false)
        textEncoder = g.textEncoder
        unet = g.unet
        self.resampler = resampler
        adapter = PretrainedModels.adapterFile(unet: g.unet, resampler: resampler)
        self.adapterPath = adapterPath
        referenceEncoder = encoder
        tokenizer = g.tokenizer
        vae = g.vae
        schedule = g.schedule
        resolution = g.resolution
        self.referenceAttention = referenceAttention
    }

    /// The empty prompt's text states `[1, Lt, D]` (the condition-dropout and CFG null text).
    public var nullText: Tensor {
        withNoGrad { textEncoder.forward([tokenizer.encode("")]).states.value }
    }

    /// The zero image's reference-encoder tokens `[1, N, E]` (the null image: the sampler's null tokens
    /// are the resampler of these).
    public var nullImage: Tensor {
        withNoGrad { referenceEncoder.tokens(Variable(Tensor(zeros: [1, 3, resolution, resolution]))).value }
    }

    /// The side of the grid the losses run on (and quality maps are resized to): the image's, or the latents'.
    public var lossSide: Int { vae.map { resolution / $0.config.downsampleFactor } ?? resolution }
}
