import Diffusion
import Foundation
import Random
import TensorCore
@testable import Generation
import Models

/// A tiny generator for tests: 16x16 images, text width 16, a 2-level U-Net [8, 16], a depth-3 image
/// tower of width 16 and a 4-query resampler; short noise schedule (T = 100) so loops stay fast.
enum Tiny {
    static let text = TextEncoderConfig(vocabSize: 128, maxLength: 12, width: 16, depth: 1, heads: 2, mlpDim: 32)
    static let vision = ViTConfig(imageSize: 16, patchSize: 4, width: 16, depth: 3, heads: 2, mlpDim: 32)
    static let unet = UNetConfig(blockOutChannels: [8, 16], layersPerBlock: 1, crossAttentionDim: 16, heads: 2)
    static let resampler = ResamplerConfig(embeddingDim: 16, dim: 16, depth: 1, heads: 2, dimHead: 8, numQueries: 4, outputDim: 16)
    static let schedule = NoiseSchedule(.linear, trainSteps: 100, betaStart: 1e-3, betaEnd: 0.05)

    /// A generator with weights drawn from `seed` (`adapter: false` gives the base text-only model).
    static func generator(seed: UInt64 = 1, adapter: Bool = true) throws -> Generator {
        let k = RNGKey(seed: seed)
        let te = try TextEncoder(config: text, key: k.fold(in: "text"))
        let unetModel = try UNet2DConditionModel(config: unet, key: k.fold(in: "unet"))
        guard adapter else {
            return Generator(textEncoder: te, imageEncoder: nil, resampler: nil, unet: unetModel, schedule: schedule, resolution: 16)
        }
        let vit = try ViT(config: vision, key: k.fold(in: "vit"))
        let r = try Resampler(config: resampler, key: k.fold(in: "resampler"))
        return Generator(textEncoder: te, imageEncoder: ViTReferenceEncoder(vit: vit, layer: max(1, vision.depth - 1)), resampler: r,
                         unet: unetModel, schedule: schedule, resolution: 16)
    }

    /// A latent text-only generator: the text tower of `generator(adapter: false)`, a 4-channel U-Net and a
    /// 2-level autoencoder (16x16 images <-> [4, 8, 8] latents).
    static func latentGenerator() throws -> Generator {
        let base = try generator(adapter: false)
        let vae = try AutoencoderKL(config: AutoencoderConfig(latentChannels: 4, blockOutChannels: [8, 16], scalingFactor: 0.7),
                                    key: RNGKey(seed: 3))
        var cfg = unet
        cfg.inChannels = 4; cfg.outChannels = 4
        return Generator(textEncoder: base.textEncoder, imageEncoder: nil, resampler: nil,
                         unet: try UNet2DConditionModel(config: cfg, key: RNGKey(seed: 4)), vae: vae, schedule: schedule, resolution: 16)
    }

    static func references(_ n: Int, seed: UInt64 = 9) -> Tensor {
        var t = Init_normal([n, 3, 16, 16], key: RNGKey(seed: seed))
        for i in t.scalars.indices { t.scalars[i] = max(-1, min(1, t.scalars[i] * 0.5)) }
        return t
    }

    static func maxAbsDiff(_ a: Tensor, _ b: Tensor) -> Float {
        precondition(a.shape == b.shape, "maxAbsDiff: \(a.shape) vs \(b.shape)")
        return zip(a.scalars, b.scalars).map { abs($0 - $1) }.max() ?? 0
    }
}

/// N(0, 1) tensor (NN's `Init.normal`, restated to keep this file's imports small).
func Init_normal(_ shape: [Int], key: RNGKey) -> Tensor {
    var s = [Float](repeating: 0, count: shape.reduce(1, *))
    s.withUnsafeMutableBufferPointer { key.fillNormal($0) }
    return Tensor(shape: shape, scalars: s)
}
