import Autograd
import Models
import NN
import Random
import TensorCore

/// The latent-diffusion autoencoder (`AutoencoderKL`) on world renders (the U-Net's data: train
/// subjects, textured and clean scenes, random poses):
///   L = mean_pixels w * rho(D(z) - x) + klWeight * KL(q(z | x) || N(0, I)),   z ~ q(z | x),
/// rho(d) = sqrt(d^2 + 1e-6) (Charbonnier, a smooth L1: L1 keeps edges sharper than L2 in image
/// autoencoders), and w = (1 + objectWeight * coverage) / mean(1 + objectWeight * coverage) per row:
/// object pixels weigh more than the background, because the object's local details (decal, stripes)
/// are what the generator must keep and what a pixel loss over mostly-background images neglects.
/// SD's VAE uses a perceptual (LPIPS) and an adversarial term for the same purpose; this world has no
/// pretrained perceptual network to borrow, and the judges must stay independent of the pipeline.
public final class AutoencoderTask: PretrainTask {
    public let vae: AutoencoderKL
    public let data: WorldDataConfig
    public let seed: UInt64
    public let batchSize: Int
    public let klWeight: Float
    public let objectWeight: Float

    public init(vae: AutoencoderKL, data: WorldDataConfig, seed: UInt64, batchSize: Int, klWeight: Float = 1e-6, objectWeight: Float = 4) {
        precondition(klWeight >= 0 && objectWeight >= 0, "AutoencoderTask: weights must be >= 0")
        self.vae = vae; self.data = data; self.seed = seed; self.batchSize = batchSize
        self.klWeight = klWeight; self.objectWeight = objectWeight
    }

    public var trainable: [(String, Parameter)] { vae.namedParameters() }

    public func loss(step: Int) throws -> Variable {
        vae.train(true)
        let b = try WorldData.batch(seed: seed, step: step, size: batchSize, config: data)
        return loss(images: b.images, coverage: b.coverage, noiseKey: RNGKey(seed: seed).fold(in: "vae-eps").fold(in: UInt64(step)))
    }

    /// The loss of a given batch: images [B, 3, S, S], coverage [B * S * S] (the renderer's object mask).
    public func loss(images: Tensor, coverage: [Float], noiseKey: RNGKey) -> Variable {
        let x = Variable(images)
        let q = vae.encode(x)
        let z = q.sample(noise: Init.normal(q.mean.shape, key: noiseKey))
        let d = vae.decode(z) - x
        let rho = (d.squared() + 1e-6).sqrt()
        let w = Variable(Self.pixelWeights(coverage: coverage, batch: images.shape[0], side: images.shape[2], objectWeight: objectWeight))
        return (rho * w).mean() + q.kl() * klWeight
    }

    /// Per-pixel weights [B, 1, S, S]: 1 + objectWeight * coverage, normalised to mean 1 per row.
    public static func pixelWeights(coverage: [Float], batch: Int, side: Int, objectWeight: Float) -> Tensor {
        let n = side * side
        precondition(coverage.count == batch * n, "pixelWeights: coverage has \(coverage.count) values, want \(batch * n)")
        var w = coverage.map { 1 + objectWeight * $0 }
        for r in 0..<batch {
            let m = w[(r * n)..<((r + 1) * n)].reduce(0, +) / Float(n)
            for i in (r * n)..<((r + 1) * n) { w[i] /= m }
        }
        return Tensor(shape: [batch, 1, side, side], scalars: w)
    }
}
