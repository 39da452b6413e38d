import Autograd
import Models
import NN
import Random
import TensorCore
import World

/// Degradations that make world renders look like the generator's samples (noisy, blotchy, blurred,
/// oversaturated: docs/unet-samples.png), so a segmenter trained on renders transfers to generated
/// images. Per image, from a key (the same key gives the same image), on x in [-1, 1] with `s` =
/// `strength`, applied to a share `fraction` of the images (the rest stay clean):
/// 1. colour: saturation x' = l + sat (x - l) around the pixel's luminance l, sat in [1 - s/2, 1 + s];
///    contrast around the image mean in [1 - s/4, 1 + s/4]; per-channel gain 1 +- s/6; offset +- s/8;
/// 2. blur with probability 1/2: x' = (1 - a) x + a blur(x), blur = the [1, 2, 1]/4 binomial in both
///    axes (edges replicated), a in [0, 1];
/// 3. noise: per-pixel N(0, sigma^2), sigma in [0, s/5], plus blotches: N(0, tau^2) per 4 x 4 block of
///    pixels and channel, tau in [0, s/8];
/// 4. clamp to [-1, 1].
/// Nothing moves a pixel, so the renderer's object mask stays the target.
public struct GeneratedLookAugmentation: Sendable, Equatable {
    public var strength: Float
    public var fraction: Float

    public init(strength: Float = 1, fraction: Float = 0.8) {
        precondition(strength >= 0 && (0...1).contains(fraction), "GeneratedLookAugmentation: strength \(strength), fraction \(fraction)")
        self.strength = strength; self.fraction = fraction
    }

    public static let off = GeneratedLookAugmentation(strength: 0, fraction: 0)

    /// `images` [B, 3, H, W] augmented, image b with `key.fold(in: b)`.
    public func apply(_ images: Tensor, key: RNGKey) -> Tensor {
        precondition(images.rank == 4 && images.shape[1] == 3, "GeneratedLookAugmentation: want [B, 3, H, W], got \(images.shape)")
        guard strength > 0 && fraction > 0 else { return images }
        let (b, h, w) = (images.shape[0], images.shape[2], images.shape[3])
        let per = 3 * h * w
        var out = images.scalars
        for i in 0..<b {
            let k = key.fold(in: UInt64(i))
            guard k.uniform(at: 0) < fraction else { continue }
            var x = Array(out[(i * per)..<((i + 1) * per)])
            augment(&x, height: h, width: w, key: k)
            out.replaceSubrange((i * per)..<((i + 1) * per), with: x)
        }
        return Tensor(shape: images.shape, scalars: out)
    }

    /// One image x [3, H, W] in place (steps 1-4 of the type's doc).
    func augment(_ x: inout [Float], height h: Int, width w: Int, key k: RNGKey) {
        let s = strength, n = h * w
        func u(_ i: UInt64) -> Float { k.uniform(at: i) }            // [0, 1)
        func pm(_ i: UInt64) -> Float { u(i) * 2 - 1 }               // [-1, 1)
        // 1. colour
        let sat = 1 - s / 2 + u(1) * (1.5 * s), contrast = 1 + s / 4 * pm(2)
        let gain = (0..<3).map { 1 + s / 6 * pm(3 + UInt64($0)) }, offset = s / 8 * pm(6)
        var mean: Float = 0
        for v in x { mean += v }
        mean /= Float(x.count)
        for p in 0..<n {
            let l = 0.299 * x[p] + 0.587 * x[n + p] + 0.114 * x[2 * n + p]
            for c in 0..<3 {
                let v = l + sat * (x[c * n + p] - l)
                x[c * n + p] = (mean + contrast * (v - mean)) * gain[c] + offset
            }
        }
        // 2. blur
        if u(7) < 0.5 {
            let a = u(8)
            for c in 0..<3 {
                let plane = Array(x[(c * n)..<((c + 1) * n)])
                let blurred = Self.binomialBlur(plane, height: h, width: w)
                for p in 0..<n { x[c * n + p] = (1 - a) * plane[p] + a * blurred[p] }
            }
        }
        // 3. noise
        let sigma = s / 5 * u(9), tau = s / 8 * u(10)
        let nk = k.fold(in: "noise"), bk = k.fold(in: "blotch")
        let bw = (w + 3) / 4
        for c in 0..<3 {
            for y in 0..<h {
                for xx in 0..<w {
                    let p = y * w + xx
                    let blotch = tau * bk.normal(at: UInt64((c * ((h + 3) / 4) + y / 4) * bw + xx / 4))
                    x[c * n + p] += sigma * nk.normal(at: UInt64(c * n + p)) + blotch
                }
            }
        }
        // 4. clamp
        for i in x.indices { x[i] = min(1, max(-1, x[i])) }
    }

    /// The separable [1, 2, 1] / 4 blur of a plane, edges replicated.
    static func binomialBlur(_ v: [Float], height h: Int, width w: Int) -> [Float] {
        var t = v, out = v
        for y in 0..<h {
            for x in 0..<w {
                t[y * w + x] = (v[y * w + max(0, x - 1)] + 2 * v[y * w + x] + v[y * w + min(w - 1, x + 1)]) / 4
            }
        }
        for y in 0..<h {
            for x in 0..<w {
                out[y * w + x] = (t[max(0, y - 1) * w + x] + 2 * t[y * w + x] + t[min(h - 1, y + 1) * w + x]) / 4
            }
        }
        return out
    }
}

/// The foreground segmenter (`Segmenter`) on world renders with their ground-truth object masks:
/// batches of `WorldData` (train subjects, textured and clean backgrounds, random poses) whose object
/// scale is redrawn in `scaleRange` (the generator draws objects smaller and larger than the world's 0.30-0.40),
/// augmented by `GeneratedLookAugmentation`; target y = the renderer's coverage of each pixel in [0, 1]:
///   L = mean_pixels BCE(z, y) + diceWeight * (1 - mean_images dice),
///   BCE(z, y) = -(y log sigmoid(z) + (1 - y) log sigmoid(-z)),
///   dice = (2 sum(p y) + 1) / (sum p + sum y + 1), p = sigmoid(z), sums over an image's pixels.
/// Dice keeps small objects from being traded for the background's majority of pixels.
/// Batch `step` is a pure function of (seed, step).
public final class SegmenterTask: PretrainTask {
    public let segmenter: Segmenter
    public let data: WorldDataConfig
    public let seed: UInt64
    public let batchSize: Int
    public let augmentation: GeneratedLookAugmentation
    public let diceWeight: Float
    public let scaleRange: ClosedRange<Float>

    public init(segmenter: Segmenter, data: WorldDataConfig, seed: UInt64, batchSize: Int,
                augmentation: GeneratedLookAugmentation = GeneratedLookAugmentation(), diceWeight: Float = 0.5,
                scaleRange: ClosedRange<Float> = 0.22...0.48) {
        precondition(diceWeight >= 0 && scaleRange.lowerBound > 0, "SegmenterTask: diceWeight \(diceWeight), scaleRange \(scaleRange)")
        self.segmenter = segmenter; self.data = data; self.seed = seed; self.batchSize = batchSize
        self.augmentation = augmentation; self.diceWeight = diceWeight; self.scaleRange = scaleRange
    }

    public var trainable: [(String, Parameter)] { segmenter.namedParameters() }

    /// Batch `step`: augmented images [B, 3, S, S] and their coverage [B * S * S].
    public func batch(step: Int) throws -> (images: Tensor, coverage: [Float], backgrounds: [Background]) {
        let b = try Self.renders(seed: seed, step: step, size: batchSize, config: data, scaleRange: scaleRange)
        let x = augmentation.apply(b.images, key: RNGKey(seed: seed).fold(in: "segmenter-augment").fold(in: UInt64(step)))
        return (x, b.coverage, b.backgrounds)
    }

    public func loss(step: Int) throws -> Variable {
        segmenter.train(true)
        let b = try batch(step: step)
        return Self.loss(logits: segmenter(Variable(b.images)), coverage: b.coverage, diceWeight: diceWeight)
    }

    /// The loss of the type's doc for logits [B, 1, S, S] against coverage [B * S * S].
    public static func loss(logits z: Variable, coverage: [Float], diceWeight: Float) -> Variable {
        precondition(z.shape.count == 4 && z.shape[1] == 1 && coverage.count == z.value.count,
                     "SegmenterTask.loss: logits \(z.shape), \(coverage.count) coverage values")
        let y = Variable(Tensor(shape: z.shape, scalars: coverage))
        let notY = Variable(Tensor(shape: z.shape, scalars: coverage.map { 1 - $0 }))
        let logLikelihood: Variable = y * z.logSigmoid() + notY * (z * -1).logSigmoid()
        let bce = logLikelihood.mean() * -1
        guard diceWeight > 0 else { return bce }
        let p = z.sigmoid()
        let inter: Variable = (p * y).sum(axes: [1, 2, 3])
        let total: Variable = p.sum(axes: [1, 2, 3]) + y.sum(axes: [1, 2, 3])
        let dice: Variable = (inter * 2 + 1) / (total + 1)
        return bce + (dice.mean() * -1 + 1) * diceWeight
    }

    /// `WorldData.batch` with each row's pose scale redrawn uniformly in `scaleRange` (keyed by (seed, step, row));
    /// canonical poses (`randomPose` off) are kept.
    public static func renders(seed: UInt64, step: Int, size: Int, config: WorldDataConfig,
                               scaleRange: ClosedRange<Float>) throws -> WorldBatch {
        var plan = WorldData.plan(seed: seed, step: step, size: size, config: config)
        let k = RNGKey(seed: seed).fold(in: "segmenter-scale").fold(in: UInt64(step))
        if config.randomPose {
            for i in plan.requests.indices {
                plan.requests[i].pose.scale = scaleRange.lowerBound + (scaleRange.upperBound - scaleRange.lowerBound) * k.uniform(at: UInt64(i))
            }
        }
        return try WorldData.render(plan, config: config)
    }
}
