import Autograd
import TensorCore

/// The spatial transforms of the self-supervised loss (METHODS 3): symmetries of the square that
/// map a token grid onto itself exactly (no interpolation).
///
/// On an s x s grid, output cell (y, x) takes the input cell `source(y:x:side:)`:
/// - `rot90`  (counter-clockwise, `np.rot90(a, 1)`): in[x][s-1-y]
/// - `rot180` (`np.rot90(a, 2)`):                   in[s-1-y][s-1-x]
/// - `rot270` (clockwise, `np.rot90(a, 3)`):        in[s-1-x][y]
/// - `hflip`  (`np.fliplr`):                        in[y][s-1-x]
/// - `vflip`  (`np.flipud`):                        in[s-1-y][x]
/// The same rule applied to pixels (side S) moves whole patches (side S/p) by the same rule on the
/// patch grid and transforms each patch's content too, so T(image) has patch tokens T(tokens) up to
/// what the network does with the content.
public enum GridTransform: String, CaseIterable, Sendable, Codable {
    case identity, rot90, rot180, rot270, hflip, vflip

    /// The five transforms of the SSL loss.
    public static let ssl: [GridTransform] = [.rot90, .rot180, .rot270, .hflip, .vflip]

    /// The input cell (row, column) read by output cell (`y`, `x`) on a `side` x `side` grid.
    @inline(__always)
    public func source(y: Int, x: Int, side s: Int) -> (Int, Int) {
        switch self {
        case .identity: return (y, x)
        case .rot90: return (x, s - 1 - y)
        case .rot180: return (s - 1 - y, s - 1 - x)
        case .rot270: return (s - 1 - x, y)
        case .hflip: return (y, s - 1 - x)
        case .vflip: return (s - 1 - y, x)
        }
    }

    /// Row-major gather indices: `out[i] = in[permutation[i]]` on a `side` x `side` grid.
    public func permutation(side: Int) -> [Int] {
        precondition(side > 0, "GridTransform.permutation: side \(side) must be positive")
        var p = [Int](repeating: 0, count: side * side)
        for y in 0..<side {
            for x in 0..<side {
                let (sy, sx) = source(y: y, x: x, side: side)
                p[y * side + x] = sy * side + sx
            }
        }
        return p
    }

    /// The same permutation applied to every plane of square images [B, C, S, S].
    public func apply(toImages x: Tensor) -> Tensor {
        precondition(x.rank == 4 && x.shape[2] == x.shape[3], "GridTransform.apply(toImages:): want [B, C, S, S], got \(x.shape)")
        if self == .identity { return x }
        let s = x.shape[2], plane = s * s
        let perm = permutation(side: s)
        var out = [Float](repeating: 0, count: x.count)
        x.scalars.withUnsafeBufferPointer { src in
            for base in stride(from: 0, to: x.count, by: plane) {
                for i in 0..<plane { out[base + i] = src[base + perm[i]] }
            }
        }
        return Tensor(shape: x.shape, scalars: out)
    }

    /// The permutation applied to patch tokens [B, N, D] (N = side^2, row-major grid), with gradient.
    /// Computed as tokens^T times a 0/1 permutation matrix, which is exact in floating point (each
    /// output is 1 * x plus zeros) and needs no new autograd rule.
    public func apply(toTokens v: Variable, side: Int) -> Variable {
        precondition(v.shape.count == 3 && v.shape[1] == side * side,
                     "GridTransform.apply(toTokens:): tokens \(v.shape) do not hold a \(side)x\(side) grid")
        if self == .identity { return v }
        let n = side * side
        let perm = permutation(side: side)
        var m = [Float](repeating: 0, count: n * n)           // m[k, i] = 1 when k == perm[i]
        for i in 0..<n { m[perm[i] * n + i] = 1 }
        let pm = Variable(Tensor(shape: [n, n], scalars: m))
        return v.permuted([0, 2, 1]).matmul(pm).permuted([0, 2, 1])    // [B, D, N] x [N, N] -> back to [B, N, D]
    }
}
