import Autograd
import NN
import Random
import TensorCore

/// Shape of the image autoencoder of latent diffusion (Rombach et al. 2022; diffusers `AutoencoderKL`
/// layout): images [B, 3, S, S] in [-1, 1] <-> latents [B, latentChannels, S/f, S/f] with
/// f = 2^(levels - 1).
///
/// - encoder: `conv_in` 3x3 -> per level `layersPerBlock` ResnetBlock2Ds (no time embedding) and,
///   but for the last level, a stride-2 conv downsampler -> mid block (two resnets) -> GroupNorm, SiLU,
///   `conv_out` 3x3 to 2 x latentChannels (mean, log-variance) -> `quant_conv` 1x1.
/// - decoder: `post_quant_conv` 1x1 -> `conv_in` 3x3 -> mid block -> per level (deepest first)
///   `layersPerBlock + 1` resnets and, but for the last, a nearest-x2 + conv upsampler -> GroupNorm,
///   SiLU, `conv_out` 3x3 to 3 channels.
/// Differences from diffusers, for the 2-core budget: no self-attention in the mid blocks, and the
/// downsampler pads 1 on every side (diffusers pads (0, 1, 0, 1)), so real SD weights need those two
/// changes to load. `scalingFactor` multiplies latents before diffusion (SD: 0.18215), measured as
/// 1 / std of the latents after training (`pretrain vae`).
public struct AutoencoderConfig: Codable, Sendable, Equatable {
    public var inChannels: Int
    public var latentChannels: Int
    public var blockOutChannels: [Int]
    public var layersPerBlock: Int
    public var normEps: Float
    public var scalingFactor: Float

    public init(inChannels: Int = 3, latentChannels: Int = 4, blockOutChannels: [Int] = [32, 64, 128], layersPerBlock: Int = 1,
                normEps: Float = 1e-6, scalingFactor: Float = 1) {
        self.inChannels = inChannels; self.latentChannels = latentChannels; self.blockOutChannels = blockOutChannels
        self.layersPerBlock = layersPerBlock; self.normEps = normEps; self.scalingFactor = scalingFactor
    }

    /// Tiny preset for tests: 2 levels (factor 2), widths 8 and 16.
    public static let xs = AutoencoderConfig(latentChannels: 2, blockOutChannels: [8, 16])

    /// Spatial down-sampling factor f (image side / latent side).
    public var downsampleFactor: Int { 1 << (blockOutChannels.count - 1) }

    /// Checks the config describes a buildable network; the error names the field.
    public func validate() throws(EncoderError) {
        try require(!blockOutChannels.isEmpty, "Autoencoder", "blockOutChannels", 0, "needs at least one level")
        try require(blockOutChannels.allSatisfy { $0 > 0 && $0 % UNetConfig.groups(for: $0) == 0 }, "Autoencoder", "blockOutChannels",
                    blockOutChannels.first ?? 0, "every width must be positive and divisible by its GroupNorm groups")
        try require(layersPerBlock >= 1, "Autoencoder", "layersPerBlock", layersPerBlock, "must be at least 1")
        try require(inChannels >= 1 && latentChannels >= 1, "Autoencoder", "latentChannels", latentChannels, "channels must be positive")
        try require(scalingFactor.isFinite && scalingFactor > 0, "Autoencoder", "scalingFactor", scalingFactor, "must be finite and positive")
    }
}

/// diffusers `UNetMidBlock2D` without attention: two ResnetBlock2Ds, keys `resnets.0`, `resnets.1`.
final class AutoencoderMidBlock: Module {
    let resnets: [ResnetBlock2D]
    init(channels: Int, eps: Float, key: RNGKey) {
        resnets = (0..<2).map { ResnetBlock2D(inChannels: channels, outChannels: channels, timeEmbedDim: nil, eps: eps,
                                              key: key.fold(in: "resnets").fold(in: UInt64($0))) }
    }
    var children: [(String, any Module)] { [("resnets", ModuleList(resnets))] }
    func callAsFunction(_ x: Variable) -> Variable { resnets.reduce(x) { h, r in r(h, temb: nil) } }
}

/// One level of the encoder (`down_blocks.i`: `resnets`, optional `downsamplers.0`) or of the decoder
/// (`up_blocks.i`: `resnets`, optional `upsamplers.0`).
final class AutoencoderLevel: Module {
    let resnets: [ResnetBlock2D]
    let down: Downsample2D?
    let up: Upsample2D?

    init(inChannels: Int, outChannels: Int, layers: Int, resample: Resample, eps: Float, key: RNGKey) {
        resnets = (0..<layers).map { j in
            ResnetBlock2D(inChannels: j == 0 ? inChannels : outChannels, outChannels: outChannels, timeEmbedDim: nil, eps: eps,
                          key: key.fold(in: "resnets").fold(in: UInt64(j)))
        }
        down = resample == .down ? Downsample2D(channels: outChannels, key: key.fold(in: "downsamplers")) : nil
        up = resample == .up ? Upsample2D(channels: outChannels, key: key.fold(in: "upsamplers")) : nil
    }

    enum Resample { case none, down, up }

    var children: [(String, any Module)] {
        var c: [(String, any Module)] = [("resnets", ModuleList(resnets))]
        if let down { c.append(("downsamplers", ModuleList([down]))) }
        if let up { c.append(("upsamplers", ModuleList([up]))) }
        return c
    }

    func callAsFunction(_ x: Variable) -> Variable {
        var h = resnets.reduce(x) { h, r in r(h, temb: nil) }
        if let down { h = down(h) }
        if let up { h = up(h) }
        return h
    }
}

/// diffusers `Encoder` (double_z): image -> [B, 2 x latentChannels, S/f, S/f] (mean; log-variance).
public final class AutoencoderEncoder: Module {
    public let convIn: Conv2d
    let levels: [AutoencoderLevel]
    let mid: AutoencoderMidBlock
    public let normOut: GroupNorm
    public let convOut: Conv2d

    init(config c: AutoencoderConfig, key: RNGKey) {
        let w = c.blockOutChannels
        convIn = Conv2d(c.inChannels, w[0], kernelSize: 3, padding: 1, key: key.fold(in: "conv_in"))
        levels = w.indices.map { i in
            AutoencoderLevel(inChannels: i == 0 ? w[0] : w[i - 1], outChannels: w[i], layers: c.layersPerBlock,
                             resample: i < w.count - 1 ? .down : .none, eps: c.normEps, key: key.fold(in: "down_blocks").fold(in: UInt64(i)))
        }
        mid = AutoencoderMidBlock(channels: w[w.count - 1], eps: c.normEps, key: key.fold(in: "mid_block"))
        normOut = GroupNorm(groups: UNetConfig.groups(for: w[w.count - 1]), channels: w[w.count - 1], eps: c.normEps)
        convOut = Conv2d(w[w.count - 1], 2 * c.latentChannels, kernelSize: 3, padding: 1, key: key.fold(in: "conv_out"))
    }

    public var children: [(String, any Module)] {
        [("conv_in", convIn), ("down_blocks", ModuleList(levels)), ("mid_block", mid), ("conv_norm_out", normOut), ("conv_out", convOut)]
    }

    func callAsFunction(_ x: Variable) -> Variable {
        convOut(normOut.normAndSiLU(mid(levels.reduce(convIn(x)) { h, l in l(h) })))
    }
}

/// diffusers `Decoder`: latent [B, latentChannels, S/f, S/f] -> image [B, 3, S, S].
public final class AutoencoderDecoder: Module {
    public let convIn: Conv2d
    let mid: AutoencoderMidBlock
    let levels: [AutoencoderLevel]
    public let normOut: GroupNorm
    public let convOut: Conv2d

    init(config c: AutoencoderConfig, key: RNGKey) {
        let w = Array(c.blockOutChannels.reversed())
        convIn = Conv2d(c.latentChannels, w[0], kernelSize: 3, padding: 1, key: key.fold(in: "conv_in"))
        mid = AutoencoderMidBlock(channels: w[0], eps: c.normEps, key: key.fold(in: "mid_block"))
        levels = w.indices.map { i in
            AutoencoderLevel(inChannels: i == 0 ? w[0] : w[i - 1], outChannels: w[i], layers: c.layersPerBlock + 1,
                             resample: i < w.count - 1 ? .up : .none, eps: c.normEps, key: key.fold(in: "up_blocks").fold(in: UInt64(i)))
        }
        normOut = GroupNorm(groups: UNetConfig.groups(for: w[w.count - 1]), channels: w[w.count - 1], eps: c.normEps)
        convOut = Conv2d(w[w.count - 1], c.inChannels, kernelSize: 3, padding: 1, key: key.fold(in: "conv_out"))
    }

    public var children: [(String, any Module)] {
        [("conv_in", convIn), ("mid_block", mid), ("up_blocks", ModuleList(levels)), ("conv_norm_out", normOut), ("conv_out", convOut)]
    }

    func callAsFunction(_ z: Variable) -> Variable {
        convOut(normOut.normAndSiLU(levels.reduce(mid(convIn(z))) { h, l in l(h) }))
    }
}

/// The diagonal-Gaussian posterior q(z | x) of `AutoencoderKL.encode`: `mean`, `logVariance` [B, C, s, s].
public struct LatentPosterior {
    public let mean: Variable
    public let logVariance: Variable

    public init(mean: Variable, logVariance: Variable) { self.mean = mean; self.logVariance = logVariance }

    /// z = mean + exp(logvar / 2) * eps, eps [B, C, s, s] standard normal (the reparameterisation).
    public func sample(noise: Tensor) -> Variable { mean + (logVariance * 0.5).exp() * Variable(noise) }

    /// KL(q || N(0, I)) summed over a row's latent elements, averaged over rows (diffusers
    /// `DiagonalGaussianDistribution.kl`: 0.5 sum(mean^2 + var - 1 - logvar)).
    public func kl() -> Variable {
        let terms = mean.squared() + logVariance.exp() - logVariance - 1
        return terms.sum() * (0.5 / Float(mean.shape[0]))
    }
}

/// diffusers `AutoencoderKL`, keys `encoder.*`, `quant_conv`, `post_quant_conv`, `decoder.*`.
/// `encode` gives the posterior of unscaled latents; diffusion works on `scalingFactor * z`
/// (`latents(of:)`, `decode(latents:)` apply and undo the factor).
public final class AutoencoderKL: Module {
    public let config: AutoencoderConfig
    public let encoder: AutoencoderEncoder
    public let decoder: AutoencoderDecoder
    public let quantConv: Conv2d
    public let postQuantConv: Conv2d

    public init(config: AutoencoderConfig, key: RNGKey) throws(EncoderError) {
        try config.validate()
        self.config = config
        encoder = AutoencoderEncoder(config: config, key: key.fold(in: "encoder"))
        decoder = AutoencoderDecoder(config: config, key: key.fold(in: "decoder"))
        quantConv = Conv2d(2 * config.latentChannels, 2 * config.latentChannels, kernelSize: 1, key: key.fold(in: "quant_conv"))
        postQuantConv = Conv2d(config.latentChannels, config.latentChannels, kernelSize: 1, key: key.fold(in: "post_quant_conv"))
    }

    public var children: [(String, any Module)] {
        [("encoder", encoder), ("quant_conv", quantConv), ("post_quant_conv", postQuantConv), ("decoder", decoder)]
    }

    /// q(z | x) for images x [B, 3, S, S] in [-1, 1].
    public func encode(_ x: Variable) -> LatentPosterior {
        let moments = quantConv(encoder(x)).chunked(2, axis: 1)
        return LatentPosterior(mean: moments[0], logVariance: moments[1])
    }

    /// Images from unscaled latents z.
    public func decode(_ z: Variable) -> Variable { decoder(postQuantConv(z)) }

    /// Scaled diffusion latents of images: scalingFactor x the posterior mean (deterministic, as
    /// diffusers' `latent_dist.mode()`), no gradient.
    public func latents(of images: Tensor) -> Tensor {
        withNoGrad { encode(Variable(images)).mean * config.scalingFactor }.value
    }

    /// What a diffusion model with this optional autoencoder denoises for images [B, 3, S, S]: their
    /// scaled latents, or the images themselves in pixel space (nil).
    public static func diffusionSpace(_ images: Tensor, vae: AutoencoderKL?) -> Tensor {
        vae.map { $0.latents(of: images) } ?? images
    }

    /// Images from scaled diffusion latents, no gradient.
    public func decode(latents: Tensor) -> Tensor {
        withNoGrad { decode(Variable(latents) * (1 / config.scalingFactor)) }.value
    }
}
