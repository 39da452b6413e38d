import Autograd
import TensorCore

/// Which keys the images of a two-member set [reference, generated] see in coupled self-attention
/// (`Attention.coupled`), as an additive mask built per U-Net level (reference attention,
/// `Generation.ReferenceAttention`):
/// - the reference's queries see only the reference's keys, so its features are those of a lone pass;
/// - the generated image's queries see all of its own keys, and the reference's keys on the reference's
///   foreground only, each with the additive bias `bias` (log of the weight a reference key gets against
///   an own key of equal score; 0 = equal). Background keys of the reference are masked, so the
///   reference's plain backdrop does not pull the generated scene towards it.
public struct ReferenceSetMask: Sendable {
    /// Foreground of each set's reference, [sets, H, W] in [0, 1], at the U-Net input's resolution.
    public var foreground: Tensor
    public var bias: Float
    /// What a masked key gets (finite, so a row whose keys are all masked still has a defined softmax).
    static let masked: Float = -1e9

    public init(foreground: Tensor, bias: Float = 0) {
        precondition(foreground.rank == 3, "ReferenceSetMask: foreground \(foreground.shape), want [sets, H, W]")
        self.foreground = foreground
        self.bias = bias
    }

    /// The additive mask [sets, 1, 2L, 2L] of a level with h x w tokens (L = h w); the foreground is
    /// average-pooled to h x w and a reference token counts as foreground when at least half its area is.
    public func additive(height h: Int, width w: Int) -> Tensor {
        let sets = foreground.shape[0], fh = foreground.shape[1], fw = foreground.shape[2]
        precondition(fh % h == 0 && fw % w == 0 && fh / h == fw / w,
                     "ReferenceSetMask: level \(h)x\(w) does not divide the foreground's \(fh)x\(fw)")
        let f = fh / h, l = h * w, n = 2 * l
        var out = [Float](repeating: 0, count: sets * n * n)
        for s in 0..<sets {
            var isForeground = [Bool](repeating: false, count: l)
            for y in 0..<h {
                for x in 0..<w {
                    var sum: Float = 0
                    for dy in 0..<f { for dx in 0..<f { sum += foreground.scalars[(s * fh + y * f + dy) * fw + x * f + dx] } }
                    isForeground[y * w + x] = sum >= 0.5 * Float(f * f)
                }
            }
            let base = s * n * n
            for q in 0..<l { for k in l..<n { out[base + q * n + k] = Self.masked } }       // reference rows: own keys only
            for q in l..<n {
                for k in 0..<l { out[base + q * n + k] = isForeground[k] ? bias : Self.masked }
            }
        }
        return Tensor(shape: [sets, 1, n, n], scalars: out)
    }
}

extension ReferenceSetMask {
    /// The batch of [reference, image] sets: rows reference_0, image_0, reference_1, image_1, ... of two
    /// [B, ...] tensors of the same shape (the layout `additive` and `imageRows` assume).
    public static func pairs(references r: Tensor, images x: Tensor) -> Tensor {
        precondition(r.shape == x.shape, "ReferenceSetMask.pairs: references \(r.shape) vs images \(x.shape)")
        let per = r.count / r.shape[0]
        var out: [Float] = []
        out.reserveCapacity(2 * r.count)
        for i in 0..<r.shape[0] {
            out += r.scalars[(i * per)..<((i + 1) * per)]
            out += x.scalars[(i * per)..<((i + 1) * per)]
        }
        return Tensor(shape: [2 * r.shape[0]] + r.shape.dropFirst(), scalars: out)
    }

    /// The image rows (1, 3, 5, ...) of a [2B, ...] batch of sets.
    public static func imageRows(_ y: Tensor) -> Tensor {
        let per = y.count / y.shape[0], b = y.shape[0] / 2
        var out: [Float] = []
        out.reserveCapacity(b * per)
        for i in 0..<b { out += y.scalars[((2 * i + 1) * per)..<((2 * i + 2) * per)] }
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
