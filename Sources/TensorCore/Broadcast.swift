/// NumPy broadcasting of two shapes: align on the right; each pair of extents must be equal or 1.
/// `[2, 1, 5] ~ [3, 1] -> [2, 3, 5]`.
public func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int] {
    let r = max(a.count, b.count)
    var out = [Int](repeating: 1, count: r)
    for i in 0..<r {
        let x = i < r - a.count ? 1 : a[i - (r - a.count)]
        let y = i < r - b.count ? 1 : b[i - (r - b.count)]
        precondition(x == y || x == 1 || y == 1, "broadcast: shapes \(a) and \(b) differ at axis \(i) (\(x) vs \(y))")
        out[i] = x == 1 ? y : x
    }
    return out
}

/// Strides (in elements) of `shape` read as if broadcast to `target`: 0 on broadcast axes.
func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
    let pad = target.count - shape.count
    precondition(pad >= 0, "broadcast: \(shape) has more axes than \(target)")
    var strides = [Int](repeating: 0, count: target.count)
    var acc = 1
    for i in stride(from: shape.count - 1, through: 0, by: -1) {
        let ti = i + pad
        precondition(shape[i] == target[ti] || shape[i] == 1, "broadcast: \(shape) cannot expand to \(target)")
        strides[ti] = shape[i] == 1 ? 0 : acc
        acc *= shape[i]
    }
    return strides
}

/// A strided loop nest equivalent to broadcasting two operands to `shape`, with adjacent axes
/// merged where both operands stay contiguous, so the innermost loop is as long as possible.
struct BroadcastPlan {
    var dims: [Int]       // merged output extents (at least one axis)
    var sa: [Int]         // merged strides of a
    var sb: [Int]         // merged strides of b

    init(_ a: [Int], _ b: [Int], to shape: [Int]) {
        var d = shape, x = broadcastStrides(a, to: shape), y = broadcastStrides(b, to: shape)
        if d.isEmpty { d = [1]; x = [0]; y = [0] }
        var md = [d[d.count - 1]], mx = [x[x.count - 1]], my = [y[y.count - 1]]
        for i in stride(from: d.count - 2, through: 0, by: -1) {
            let n = md[0]
            if d[i] == 1 { continue }
            if x[i] == mx[0] * n && y[i] == my[0] * n || md[0] == 1 {
                // Mergeable: axis i continues the contiguous run of both operands (or the run is empty).
                if md[0] == 1 { mx[0] = x[i]; my[0] = y[i] }
                md[0] = n * d[i]
            } else {
                md.insert(d[i], at: 0); mx.insert(x[i], at: 0); my.insert(y[i], at: 0)
            }
        }
        dims = md; sa = mx; sb = my
    }

    var inner: Int { dims[dims.count - 1] }
    var rows: Int { dims.dropLast().reduce(1, *) }

    /// Offsets of row `r` (an index over all axes but the last) into a and b.
    @inline(__always)
    func rowOffsets(_ r: Int) -> (Int, Int) {
        var rem = r, oa = 0, ob = 0
        for i in stride(from: dims.count - 2, through: 0, by: -1) {
            let q = rem % dims[i]
            rem /= dims[i]
            oa += q * sa[i]; ob += q * sb[i]
        }
        return (oa, ob)
    }
}

extension Kernels {
    /// `x` expanded to `shape` by NumPy broadcasting (the backward of `sum`/`mean` with keepDims,
    /// and of `reduceToShape`). `shape` must be a broadcast of `x.shape`.
    public static func broadcast(_ x: Tensor, to shape: [Int]) -> Tensor {
        if x.shape == shape { return x }
        precondition(broadcastShape(x.shape, shape) == shape, "broadcast: \(x.shape) cannot expand to \(shape)")
        return broadcastBinary(x, Tensor(zeros: [1]), Fn.First(), shape: shape)
    }
}
