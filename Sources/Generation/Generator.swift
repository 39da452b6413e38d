import Autograd
import Diffusion
import Models
import NN
import Random
import TensorCore
import Text
import World

/// The personalized text-to-image generator (IP-Adapter-Plus analogue, MODELS.md "Generator"):
/// a text encoder, a reference encoder (CLIP's vision tower read at a block, or the adapter's own
/// convolutional tower; its tokens feed the resampler), an optional resampler (no resampler = the base text-to-image model), the
/// U-Net with decoupled image cross-attention, the DDPM noise schedule and the project tokenizer.
///
/// Conditioning of one batch row: text states [L, 128] of its prompt, and image tokens
/// resampler(imageEncoder(reference)) [Nq, 128]. The null branch of classifier-free guidance drops
/// text AND image together: text states of the empty prompt and
/// null image tokens = resampler(imageEncoder(zero image)) (METHODS.md 6).
/// With an autoencoder (`vae`, latent diffusion as Stable Diffusion) the U-Net denoises scaled latents
/// [B, latentChannels, S/f, S/f] and sampling ends with the decoder; references stay images.
/// Everything runs without gradients; `Generator` is not thread-safe (it holds modules).
public final class Generator {
    public let textEncoder: TextEncoder
    public let imageEncoder: (any ReferenceEncoder)?
    public let resampler: Resampler?
    public let unet: UNet2DConditionModel
    /// The latent-diffusion autoencoder; nil = pixel-space diffusion.
    public let vae: AutoencoderKL?
    public let schedule: NoiseSchedule
    public let tokenizer: WordTokenizer
    /// Image side in pixels (the image encoder's input size when there is one).
    public let resolution: Int
    /// The reference attention the adapter was trained with (its record's `referenceAttention`): what samplers use
    /// when a config says "auto" (`ReferenceAttention.resolve`); nil = trained without.
    public let trainedReferenceAttention: ReferenceAttention?
    /// The timestep the adapter's reference was diffused to in training (its record's `referenceTimestep`): min(k, t),
    /// 0 = the clean reference; nil = each step's own t. `Sampler` reads references at it unless the options name another.
    public let trainedReferenceTimestep: Int?

    public init(textEncoder: TextEncoder, imageEncoder: (any ReferenceEncoder)?, resampler: Resampler?,
                unet: UNet2DConditionModel, vae: AutoencoderKL? = nil, schedule: NoiseSchedule = NoiseSchedule(),
                tokenizer: WordTokenizer = WorldText.tokenizer(), resolution: Int = 32, trainedReferenceAttention: ReferenceAttention? = nil,
                trainedReferenceTimestep: Int? = nil) {
        precondition((imageEncoder == nil) == (resampler == nil),
                     "Generator: give both an image encoder and a resampler, or neither")
        if let e = imageEncoder {
            precondition(e.imageSize == resolution,
                         "Generator: image encoder takes \(e.imageSize)px, generator resolution \(resolution)")
        }
        self.textEncoder = textEncoder
        self.imageEncoder = imageEncoder
        self.resampler = resampler
        if let vae {
            precondition(resolution % vae.config.downsampleFactor == 0 && unet.config.inChannels == vae.config.latentChannels
                         && unet.config.outChannels == vae.config.latentChannels,
                         "Generator: U-Net channels \(unet.config.inChannels)/\(unet.config.outChannels) do not match the autoencoder's "
                         + "\(vae.config.latentChannels) latent channels, or \(resolution) is not a multiple of \(vae.config.downsampleFactor)")
            vae.train(false)
        }
        self.unet = unet
        self.vae = vae
        self.schedule = schedule
        self.tokenizer = tokenizer
        self.resolution = resolution
        self.trainedReferenceAttention = trainedReferenceAttention
        self.trainedReferenceTimestep = trainedReferenceTimestep
        textEncoder.train(false)
        imageEncoder?.train(false)
        resampler?.train(false)
        unet.train(false)
    }

    /// This generator's text and image encoders, autoencoder, schedule and tokenizer with `copy`'s resampler and U-Net, and
    /// `copy`'s adapter training (`trainedReferenceAttention`, `trainedReferenceTimestep`), so samplers read the reference
    /// as that adapter was trained to. For a second load of the same model whose resampler and U-Net take other adapters
    /// (the bench's dpo-train models) without a second set of encoders.
    public func withNetworks(of copy: Generator) -> Generator {
        Generator(textEncoder: textEncoder, imageEncoder: imageEncoder, resampler: copy.resampler, unet: copy.unet, vae: vae,
                  schedule: schedule, tokenizer: tokenizer, resolution: resolution,
                  trainedReferenceAttention: copy.trainedReferenceAttention, trainedReferenceTimestep: copy.trainedReferenceTimestep)
    }

    /// Token ids of `prompts` ([B][maxLength]).
    public func encode(_ prompts: [String]) -> [[Int32]] { prompts.map(tokenizer.encode) }

    /// Text states [B, L, D] of `prompts` (the cross-attention context).
    public func textStates(_ prompts: [String]) -> Tensor {
        withNoGrad { textEncoder.forward(encode(prompts)).states.value }
    }

    /// Reference-encoder tokens [B, N, D] of images [B, 3, S, S] (what the resampler reads).
    public func imageFeatures(_ images: Tensor) -> Tensor {
        guard let e = imageEncoder else { preconditionFailure("Generator.imageFeatures: no image encoder (base model)") }
        return withNoGrad { e.tokens(Variable(images)).value }
    }

    /// Image tokens [B, Nq, 128] of reference images [B, 3, S, S] in [-1, 1].
    public func imageTokens(_ references: Tensor) -> Tensor {
        guard let r = resampler else { preconditionFailure("Generator.imageTokens: no resampler (base model)") }
        let f = imageFeatures(references)
        return withNoGrad { r.forward(Variable(f)).value }
    }

    /// Null image tokens [B, Nq, 128]: resampler(imageEncoder(zero image)), repeated over the batch.
    public func nullImageTokens(batch: Int) -> Tensor {
        let s = resolution
        let one = imageTokens(Tensor(zeros: [1, 3, s, s]))
        return Tensor(shape: [batch] + one.shape.dropFirst(), scalars: Array((0..<batch).map { _ in one.scalars }.joined()))
    }

    /// Shape of one row of what the U-Net denoises: [3, S, S] in pixel space, [latentChannels, S/f, S/f]
    /// in latent space.
    public var sampleShape: [Int] {
        guard let vae else { return [3, resolution, resolution] }
        let side = resolution / vae.config.downsampleFactor
        return [vae.config.latentChannels, side, side]
    }

    /// What the U-Net denoises for images [B, 3, S, S] in [-1, 1]: the images, or their scaled latents.
    public func diffusionSpace(_ images: Tensor) -> Tensor { AutoencoderKL.diffusionSpace(images, vae: vae) }

    /// Images [B, 3, S, S] from what the U-Net denoises (the decoder's output in latent space).
    public func imageSpace(_ x: Tensor) -> Tensor { vae.map { $0.decode(latents: x) } ?? x }

    /// Noise prediction (shape of x) for x [B] + `sampleShape` at one timestep t; with `referenceKeys`, the first rows
    /// of x read the references recorded in them (`ReferenceKeys`).
    public func predictNoise(_ x: Tensor, timestep t: Int, text: Tensor, imageTokens: Tensor?, ipScale: Float,
                             referenceKeys: ReferenceKeys? = nil) -> Tensor {
        withNoGrad {
            unet.forward(Variable(x), timesteps: Array(repeating: t, count: x.shape[0]), text: Variable(text),
                         imageTokens: imageTokens.map { Variable($0) }, ipScale: ipScale, referenceKeys: referenceKeys).value
        }
    }

    /// The prepared conditioning of a batch: conditional and null text states and image tokens.
    ///
    /// `references` holds `perRow` images per prompt, row-major ([B * K, 3, S, S]: prompt i's at
    /// i*K ..< (i+1)*K). With K > 1 a row's image tokens are its references' resampler tokens
    /// concatenated along the token axis ([B, K * Nq, D]), as IP-Adapter conditions on several images
    /// (PatchDPO conditions on all of a subject's references); the null tokens are K copies of the zero
    /// image's, so the CFG null branch has the same length.
    public func conditioning(prompts: [String], references: Tensor?, perRow k: Int = 1) -> Conditioning {
        let b = prompts.count
        precondition(k >= 1, "Generator.conditioning: \(k) references per row")
        precondition(references == nil || references!.shape == [b * k, 3, resolution, resolution],
                     "Generator: references \(references!.shape), want [\(b * k), 3, \(resolution), \(resolution)]")
        let text = textStates(prompts)
        let null = textStates(Array(repeating: WorldText.nullPrompt, count: b))
        var image: Tensor? = nil, nullImage: Tensor? = nil
        if let refs = references, resampler != nil {
            let tokens = imageTokens(refs)                         // [B * K, Nq, D]
            let nq = tokens.shape[1], d = tokens.shape[2]
            image = Tensor(shape: [b, k * nq, d], scalars: tokens.scalars)
            let one = nullImageTokens(batch: 1).scalars
            nullImage = Tensor(shape: [b, k * nq, d], scalars: Array(repeating: one, count: b * k).flatMap { $0 })
        }
        return Conditioning(text: text, nullText: null, image: image, nullImage: nullImage)
    }

    /// Conditional and unconditional predictions from ONE batched U-Net pass over [x; x]:
    /// (eps(x, c), eps(x, null)), each of x's shape. `referenceKeys` (`Generator.referenceKeys`, recorded for this mode,
    /// conditioning and rows): reference attention with the references' keys made once; the null branch reads them under
    /// `both`, only its own keys under `conditional`.
    public func guidedPair(_ x: Tensor, timestep t: Int, _ c: Conditioning, ipScale: Float,
                           referenceKeys: ReferenceKeys? = nil) -> (cond: Tensor, uncond: Tensor) {
        let eps = branchPredictions(x, timestep: t, texts: [c.text, c.nullText], images: c.image.map { [$0, c.nullImage!] },
                                    ipScale: ipScale, referenceKeys: referenceKeys)
        return (eps[0], eps[1])
    }

    /// The three predictions of decoupled image guidance from ONE batched pass over [x; x; x]:
    /// (eps(x, text, image), eps(x, text, null image), eps(x, null text, null image)). Needs image tokens.
    public func guidedTriple(_ x: Tensor, timestep t: Int, _ c: Conditioning, ipScale: Float)
        -> (cond: Tensor, textOnly: Tensor, uncond: Tensor) {
        guard let image = c.image, let nullImage = c.nullImage else {
            preconditionFailure("Generator.guidedTriple: no image tokens (text-only conditioning has no image branch)")
        }
        let eps = branchPredictions(x, timestep: t, texts: [c.text, c.text, c.nullText], images: [image, nullImage, nullImage],
                                    ipScale: ipScale)
        return (eps[0], eps[1], eps[2])
    }

    /// One batched U-Net pass over x repeated once per branch (branch k reads `texts[k]` and `images?[k]`),
    /// split back into one prediction of x's shape per branch.
    func branchPredictions(_ x: Tensor, timestep t: Int, texts: [Tensor], images: [Tensor]?, ipScale: Float,
                           referenceKeys: ReferenceKeys? = nil) -> [Tensor] {
        let n = texts.count
        let eps = predictNoise(stack(Array(repeating: x, count: n)), timestep: t, text: stack(texts),
                               imageTokens: images.map(stack), ipScale: ipScale, referenceKeys: referenceKeys)
        return (0..<n).map { k in Tensor(shape: x.shape, scalars: Array(eps.scalars[(k * x.count)..<((k + 1) * x.count)])) }
    }

    /// Initial noise [B] + `sampleShape`: row i drawn from `RNGKey(seed: seeds[i])` alone, so an image
    /// does not depend on what else is in its batch.
    public func initialNoise(seeds: [UInt64]) -> Tensor {
        stack(seeds.map { Init.normal([1] + sampleShape, key: RNGKey(seed: $0).fold(in: "x_T")) })
    }
}

/// Conditioning of a batch (see `Generator.conditioning`): text [B, L, D], null text [B, L, D],
/// image tokens and null image tokens [B, Nq, D] (nil for text-only sampling).
public struct Conditioning: Sendable {
    public var text: Tensor
    public var nullText: Tensor
    public var image: Tensor?
    public var nullImage: Tensor?
    public init(text: Tensor, nullText: Tensor, image: Tensor?, nullImage: Tensor?) {
        self.text = text; self.nullText = nullText; self.image = image; self.nullImage = nullImage
    }
}

/// Concatenates tensors of equal trailing shape along axis 0.
func stack(_ parts: [Tensor]) -> Tensor {
    precondition(!parts.isEmpty, "stack: no tensors")
    let tail = Array(parts[0].shape.dropFirst())
    for p in parts { precondition(Array(p.shape.dropFirst()) == tail, "stack: shapes \(parts.map(\.shape))") }
    let rows = parts.reduce(0) { $0 + $1.shape[0] }
    return Tensor(shape: [rows] + tail, scalars: Array(parts.map(\.scalars).joined()))
}
