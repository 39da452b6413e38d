import Autograd
import TensorCore

/// Which keys the images of a set [reference_1, ..., reference_K, generated] see in coupled self-attention
/// (`Attention.coupled`, set size K + 1), as an additive mask built per U-Net level (reference attention,
/// `Generation.ReferenceAttention`):
/// - each reference's queries see only that reference's keys, so its features are those of a lone pass;
/// - the generated image's queries see all of its own keys, and every reference's keys on that reference's
///   foreground only, each with the additive bias `bias` (log of the weight a reference key gets against
///   an own key of equal score; 0 = equal). Background keys of the references are masked, so their plain
///   backdrops do not pull the generated scene towards them.
public struct ReferenceSetMask: Sendable {
    /// Foreground of each set's references, [sets * K, H, W] in [0, 1] (set-major), at the U-Net input's resolution.
    public var foreground: Tensor
    public var bias: Float
    /// References per set, K (the set holds K + 1 images).
    public var referencesPerSet: Int
    /// What a masked key gets (finite, so a row whose keys are all masked still has a defined softmax).
    static let masked: Float = -1e9

    public init(foreground: Tensor, bias: Float = 0, referencesPerSet: Int = 1) {
        precondition(foreground.rank == 3 && referencesPerSet >= 1 && foreground.shape[0] % referencesPerSet == 0,
                     "ReferenceSetMask: foreground \(foreground.shape), want [sets * \(referencesPerSet), H, W]")
        self.foreground = foreground
        self.bias = bias
        self.referencesPerSet = referencesPerSet
    }

    /// Images per set: the K references and the generated image.
    public var setSize: Int { referencesPerSet + 1 }

    /// The additive mask [sets, 1, (K+1) L, (K+1) L] of a level with h x w tokens (L = h w); the foreground is
    /// average-pooled to h x w and a reference token counts as foreground when at least half its area is.
    public func additive(height h: Int, width w: Int) -> Tensor {
        let k = referencesPerSet, sets = foreground.shape[0] / k, l = h * w, n = (k + 1) * l
        let keys = keyBias(height: h, width: w).scalars
        var out = [Float](repeating: 0, count: sets * n * n)
        for s in 0..<sets {
            let base = s * n * n
            // reference j's rows: its own keys only
            for j in 0..<k {
                for q in (j * l)..<((j + 1) * l) {
                    for key in 0..<n where key < j * l || key >= (j + 1) * l { out[base + q * n + key] = Self.masked }
                }
            }
            // the generated image's rows: its own keys and every reference's foreground keys
            for q in (k * l)..<n { out.replaceSubrange((base + q * n)..<(base + (q + 1) * n), with: keys[(s * n)..<((s + 1) * n)]) }
        }
        return Tensor(shape: [sets, 1, n, n], scalars: out)
    }

    /// The generated image's row of `additive`, one bias per key of its set [sets, 1, 1, (K+1) L]: reference j's
    /// foreground keys `bias`, its background keys masked, the image's own keys 0. The same for every query of the
    /// image, so it is the whole mask when only the images query (`ReferenceKeys`, the references' keys read once).
    public func keyBias(height h: Int, width w: Int) -> Tensor {
        let k = referencesPerSet, sets = foreground.shape[0] / k, fh = foreground.shape[1], fw = foreground.shape[2]
        precondition(fh % h == 0 && fw % w == 0 && fh / h == fw / w,
                     "ReferenceSetMask: level \(h)x\(w) does not divide the foreground's \(fh)x\(fw)")
        let f = fh / h, l = h * w, n = (k + 1) * l
        var out = [Float](repeating: 0, count: sets * n)
        for s in 0..<sets {
            for j in 0..<k {
                let r = s * k + j
                for y in 0..<h {
                    for x in 0..<w {
                        var sum: Float = 0
                        for dy in 0..<f { for dx in 0..<f { sum += foreground.scalars[(r * fh + y * f + dy) * fw + x * f + dx] } }
                        out[s * n + j * l + y * w + x] = sum >= 0.5 * Float(f * f) ? bias : Self.masked
                    }
                }
            }
        }
        return Tensor(shape: [sets, 1, 1, n], scalars: out)
    }
}

extension ReferenceSetMask {
    /// The batch of [reference, image] sets: rows reference_0, image_0, reference_1, image_1, ... of two
    /// [B, ...] tensors of the same shape (the layout `additive` and `imageRows` assume).
    public static func pairs(references r: Tensor, images x: Tensor) -> Tensor {
        sets(references: r, images: x)
    }

    /// The batch of [reference_1..K, image] sets: for each row i, its K references (rows i K ..< (i + 1) K of
    /// `r`, [B * K, ...]) then x_i ([B, ...]); K = 1 is `pairs`.
    public static func sets(references r: Tensor, images x: Tensor) -> Tensor {
        let b = x.shape[0]
        precondition(b > 0 && r.shape[0] % b == 0 && Array(r.shape.dropFirst()) == Array(x.shape.dropFirst()),
                     "ReferenceSetMask.sets: references \(r.shape) vs images \(x.shape) (want [B * K, ...] and [B, ...])")
        let k = r.shape[0] / b, per = x.count / b
        var out: [Float] = []
        out.reserveCapacity(r.count + x.count)
        for i in 0..<b {
            out += r.scalars[(i * k * per)..<((i + 1) * k * per)]
            out += x.scalars[(i * per)..<((i + 1) * per)]
        }
        return Tensor(shape: [b * (k + 1)] + x.shape.dropFirst(), scalars: out)
    }

    /// The timestep a reference is diffused to and read at beside an image at timestep `t`: min(k, t) under a reference
    /// timestep k (k = 0: the clean reference at every step, as ReferenceNet reads it), else t (reference-only control,
    /// JeDi's replacement).
    public static func readTimestep(_ t: Int, cap k: Int?) -> Int { k.map { min($0, t) } ?? t }

    /// The timesteps of the rows of `sets(references:images:)`: for each image i its K references' (`references`,
    /// [B * K]) then its own (`images`, [B]); K = 1 gives pairs' [reference_0, image_0, reference_1, ...].
    public static func setTimesteps(references r: [Int], images x: [Int]) -> [Int] {
        precondition(!x.isEmpty && r.count % x.count == 0, "ReferenceSetMask.setTimesteps: \(r.count) reference timesteps for \(x.count) images")
        let k = r.count / x.count
        return x.indices.flatMap { i in Array(r[(i * k)..<((i + 1) * k)]) + [x[i]] }
    }

    /// Every row of a [B, ...] tensor `copies` times in a row: the sets' shared conditioning.
    public static func repeated(_ a: Tensor, copies: Int) -> Tensor {
        let b = a.shape[0], per = a.count / max(b, 1)
        var out: [Float] = []
        out.reserveCapacity(a.count * copies)
        for i in 0..<b { for _ in 0..<copies { out += a.scalars[(i * per)..<((i + 1) * per)] } }
        return Tensor(shape: [b * copies] + a.shape.dropFirst(), scalars: out)
    }

    /// The image rows (the last of every set of `setSize`: 1, 3, 5, ... for pairs) of a [B * setSize, ...] batch of sets.
    public static func imageRows(_ y: Tensor, setSize: Int = 2) -> Tensor {
        let per = y.count / y.shape[0], b = y.shape[0] / setSize
        var out: [Float] = []
        out.reserveCapacity(b * per)
        for i in 0..<b { out += y.scalars[((setSize * i + setSize - 1) * per)..<(setSize * (i + 1) * per)] }
        return Tensor(shape: [b] + y.shape.dropFirst(), scalars: out)
    }

    /// The image rows of a [2B, ...] batch of sets, with gradient (a slice of [B, 2, ...]).
    public static func imageRows(_ y: Variable) -> Variable {
        let b = y.shape[0] / 2, rest = Array(y.shape.dropFirst())
        return y.reshaped([b, 2] + rest).slice(axis: 1, start: 1, end: 2).reshaped([b] + rest)
    }

    /// Every row of x [B, ...] twice in a row (x_0, x_0, x_1, x_1, ...), with gradient: the sets' shared conditioning.
    public static func twice(_ x: Variable) -> Variable {
        let b = x.shape[0], rest = Array(x.shape.dropFirst())
        let row = x.reshaped([b, 1] + rest)
        return concat([row, row], axis: 1).reshaped([2 * b] + rest)
    }
}
