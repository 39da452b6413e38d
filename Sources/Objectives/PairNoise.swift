import Diffusion
import Random
import TensorCore

/// The randomness of one preference step: ONE t and ONE eps per pair, shared by both members
/// (METHODS.md 5), plus the z of HG-DPO's reverse step when it is sampled.
///
/// Draw order from the stream (fixed, so a resumed run draws the same numbers): B timesteps
/// t ~ U{0..T-1}, then B*C*H*W normals for eps, then (if asked) B*C*H*W normals for z, then (with
/// reference attention) B*C*H*W normals diffusing each pair's reference.
public struct PairNoise: Sendable, Equatable {
    /// t per pair, `[B]`.
    public let timesteps: [Int]
    /// eps per pair, `[B, C, H, W]`.
    public let noise: Tensor
    /// z per pair for one DDPM reverse step, `[B, C, H, W]`, or nil (posterior mean).
    public let stepNoise: Tensor?
    /// The noise diffusing each pair's reference (reference attention), `[B, C, H, W]`, or nil.
    public let referenceNoise: Tensor?

    public init(timesteps: [Int], noise: Tensor, stepNoise: Tensor? = nil, referenceNoise: Tensor? = nil) {
        precondition(noise.rank == 4 && noise.shape[0] == timesteps.count,
                     "PairNoise: noise \(noise.shape) for \(timesteps.count) timesteps (want [B, C, H, W])")
        if let z = stepNoise { precondition(z.shape == noise.shape, "PairNoise: z \(z.shape) vs eps \(noise.shape)") }
        if let r = referenceNoise { precondition(r.shape == noise.shape, "PairNoise: reference noise \(r.shape) vs eps \(noise.shape)") }
        self.referenceNoise = referenceNoise
        self.timesteps = timesteps
        self.noise = noise
        self.stepNoise = stepNoise
    }

    /// Draws for `pairs` pairs of images of `imageShape` ([C, H, W]).
    public static func draw(pairs: Int, imageShape: [Int], trainSteps: Int, withStepNoise: Bool, withReferenceNoise: Bool = false,
                            rng: inout RandomStream) -> PairNoise {
        precondition(pairs > 0 && imageShape.count == 3, "PairNoise.draw: \(pairs) pairs of shape \(imageShape)")
        let t = (0..<pairs).map { _ in rng.nextInt(in: 0..<trainSteps) }
        let shape = [pairs] + imageShape
        func normals() -> Tensor {
            Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in rng.nextNormal() })
        }
        let eps = normals()
        let z = withStepNoise ? normals() : nil
        return PairNoise(timesteps: t, noise: eps, stepNoise: z, referenceNoise: withReferenceNoise ? normals() : nil)
    }

    /// Number of pairs B.
    public var pairs: Int { timesteps.count }

    /// Timesteps and eps for a stack of `rows` members per pair ([first members; second members]):
    /// each pair's t and eps repeated, `[rows * B]` and `[rows * B, C, H, W]`.
    public func stacked(rows: Int) -> (timesteps: [Int], noise: Tensor) {
        precondition(rows == 1 || rows == 2, "PairNoise.stacked: rows must be 1 or 2, got \(rows)")
        if rows == 1 { return (timesteps, noise) }
        return (timesteps + timesteps, Kernels.concat([noise, noise], axis: 0))
    }

    /// x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps for a stack `x0` of `[rows * B, C, H, W]`.
    public func noisy(_ x0: Tensor, rows: Int, schedule: NoiseSchedule) -> Tensor {
        let (t, eps) = stacked(rows: rows)
        precondition(x0.shape == eps.shape, "PairNoise.noisy: x0 \(x0.shape) vs stacked eps \(eps.shape)")
        return schedule.addNoise(x0, noise: eps, timesteps: t)
    }
}
