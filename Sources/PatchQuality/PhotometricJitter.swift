import Random
import TensorCore

/// A random global re-lighting of an image (an option of the SSL finetuning, off in the paper's
/// setting): per-channel gain, offset and a linear shading ramp across the image,
///   p' = clamp(p * gain_c * (1 + rampX (X - 1/2) + rampY (Y - 1/2)) + offset, 0, 1)
/// on pixel values p in [0, 1] and image coordinates X, Y in [0, 1]. With it the SSL loss also asks
/// patch features to stay the same under lighting changes (colour-jitter views, as dense
/// self-supervised methods use), beside PatchDPO's rotation/flip equivariance.
public struct PhotometricJitter: Sendable, Equatable {
    public var gain: SIMD3<Float>
    public var offset: Float
    public var rampX: Float
    public var rampY: Float

    public static let identity = PhotometricJitter(gain: SIMD3(1, 1, 1), offset: 0, rampX: 0, rampY: 0)

    public init(gain: SIMD3<Float>, offset: Float, rampX: Float, rampY: Float) {
        self.gain = gain; self.offset = offset; self.rampX = rampX; self.rampY = rampY
    }

    /// A draw at `strength` s in 0...1 from `key` (s = 0 gives `identity`): brightness in
    /// [1 - s/2, 1 + s/2], colour cast +-s/10 per channel, offset +-s/10, ramps +-s/2.
    public static func random(strength s: Float, key: RNGKey) -> PhotometricJitter {
        precondition((0...1).contains(s), "PhotometricJitter: strength \(s) outside 0...1")
        func u(_ i: UInt64) -> Float { key.uniform(at: i) * 2 - 1 }  // [-1, 1)
        let b = 1 + s / 2 * u(0)
        return PhotometricJitter(gain: SIMD3(b * (1 + s / 10 * u(1)), b * (1 + s / 10 * u(2)), b * (1 + s / 10 * u(3))),
                                 offset: s / 10 * u(4), rampX: s / 2 * u(5), rampY: s / 2 * u(6))
    }

    /// Applies one jitter per image to `images` [B, 3, H, W] in [-1, 1] (the ViT's input range).
    public static func apply(_ jitters: [PhotometricJitter], toImages images: Tensor) -> Tensor {
        precondition(images.rank == 4 && images.shape[1] == 3 && jitters.count == images.shape[0],
                     "PhotometricJitter: \(jitters.count) jitters for images \(images.shape)")
        let h = images.shape[2], w = images.shape[3]
        var out = images.scalars
        for (b, j) in jitters.enumerated() {
            for c in 0..<3 {
                let base = (b * 3 + c) * h * w
                for y in 0..<h {
                    let ry = j.rampY * ((Float(y) + 0.5) / Float(h) - 0.5)
                    for x in 0..<w {
                        let shade = j.gain[c] * (1 + j.rampX * ((Float(x) + 0.5) / Float(w) - 0.5) + ry)
                        let p = (out[base + y * w + x] + 1) / 2 * shade + j.offset
                        out[base + y * w + x] = min(max(p, 0), 1) * 2 - 1
                    }
                }
            }
        }
        return Tensor(shape: images.shape, scalars: out)
    }
}
