/// Loop structure of a reduction over a set of axes, after merging adjacent axes of the same
/// kind (kept or reduced) and dropping extent-1 axes:
/// `out[o * inner + i] = combine over r in reducedOffsets, j < run of x[base(o) + r + j + i]`.
/// Either `inner == 1` (the last merged group is reduced, `run` is its extent) or `run == 1`
/// (the last group is kept and `inner` is its extent, so whole rows are combined at once).
struct ReducePlan {
    let outShape: [Int]
    let outer: Int
    let inner: Int
    let run: Int
    let keptDims: [Int]
    let keptStrides: [Int]
    let reducedOffsets: [Int]
    /// Number of input elements combined into each output element.
    var reducedCount: Int { reducedOffsets.count * run }

    init(shape: [Int], axes: [Int], keepDims: Bool, name: String) {
        var isReduced = [Bool](repeating: false, count: shape.count)
        for a in axes {
            let ax = a < 0 ? a + shape.count : a
            precondition(ax >= 0 && ax < shape.count, "\(name): axis \(a) out of range for shape \(shape)")
            isReduced[ax] = true
        }
        outShape = keepDims
            ? shape.enumerated().map { isReduced[$0.offset] ? 1 : $0.element }
            : shape.enumerated().filter { !isReduced[$0.offset] }.map(\.element)
        // Merge groups (outermost first).
        var sizes: [Int] = [], flags: [Bool] = []
        for (i, n) in shape.enumerated() where n != 1 {
            if let last = flags.last, last == isReduced[i] { sizes[sizes.count - 1] *= n }
            else { sizes.append(n); flags.append(isReduced[i]) }
        }
        var strides = [Int](repeating: 1, count: sizes.count)
        var acc = 1
        for i in stride(from: sizes.count - 1, through: 0, by: -1) { strides[i] = acc; acc *= sizes[i] }
        var inner = 1, run = 1, groups = sizes.count
        if let lastFlag = flags.last {
            if lastFlag { run = sizes[groups - 1] } else { inner = sizes[groups - 1] }
            groups -= 1
        }
        var kd: [Int] = [], ks: [Int] = [], rd: [Int] = [], rs: [Int] = []
        for g in 0..<groups {
            if flags[g] { rd.append(sizes[g]); rs.append(strides[g]) }
            else { kd.append(sizes[g]); ks.append(strides[g]) }
        }
        var offsets = [0]
        for (n, s) in zip(rd, rs) {
            var next: [Int] = []
            next.reserveCapacity(offsets.count * n)
            for o in offsets { for q in 0..<n { next.append(o + q * s) } }
            offsets = next
        }
        self.inner = inner; self.run = run
        keptDims = kd; keptStrides = ks; reducedOffsets = offsets
        outer = kd.reduce(1, *)
        if shape.contains(0) { precondition(false, "\(name): empty input shape \(shape)") }
    }

    /// Input offset of outer output index `o`.
    @inline(__always)
    func base(_ o: Int) -> Int {
        var rem = o, off = 0
        for i in stride(from: keptDims.count - 1, through: 0, by: -1) {
            off += (rem % keptDims[i]) * keptStrides[i]
            rem /= keptDims[i]
        }
        return off
    }

    var chunk: Int { max(1, Kernels.elementChunk / max(1, inner * reducedCount)) }
}

extension Kernels {
    /// Sum over `axes` (negative counts from the end); `keepDims` keeps them as extent 1.
    /// Row sums accumulate in Double; column sums (kept innermost axis) in Float, in a fixed order.
    public static func sum(_ x: Tensor, axes: [Int], keepDims: Bool = false) -> Tensor {
        let p = ReducePlan(shape: x.shape, axes: axes, keepDims: keepDims, name: "sum")
        var out = [Float](repeating: 0, count: p.outer * p.inner)
        x.scalars.withUnsafeBufferPointer { px in
            out.withUnsafeMutableBufferPointer { po in
                let px = px.baseAddress!, po = UnsafeSendable(po.baseAddress!)
                Threads.parallelFor(p.outer, chunk: p.chunk) { os in
                    for o in os {
                        let b = px + p.base(o)
                        if p.inner > 1 {
                            let dst = po.value + o * p.inner
                            for r in p.reducedOffsets {
                                let src = b + r
                                for i in 0..<p.inner { dst[i] += src[i] }
                            }
                        } else {
                            var acc = 0.0
                            for r in p.reducedOffsets {
                                let src = b + r
                                var part: Float = 0
                                for j in 0..<p.run { part += src[j] }
                                acc += Double(part)
                            }
                            po.value[o] = Float(acc)
                        }
                    }
                }
            }
        }
        return Tensor(shape: p.outShape, scalars: out)
    }

    /// Sum of every element, as a rank-0 tensor.
    public static func sumAll(_ x: Tensor) -> Tensor { sum(x, axes: Array(0..<x.rank)) }

    /// Mean over `axes`.
    public static func mean(_ x: Tensor, axes: [Int], keepDims: Bool = false) -> Tensor {
        let n = ReducePlan(shape: x.shape, axes: axes, keepDims: keepDims, name: "mean").reducedCount
        return scale(sum(x, axes: axes, keepDims: keepDims), 1 / Float(n))
    }

    /// Maximum over `axes`, with `argmax[o]` = flat input offset of the (first) maximum of output
    /// element `o`, for `maxBackward`.
    public static func max(_ x: Tensor, axes: [Int], keepDims: Bool = false) -> (values: Tensor, argmax: [Int]) {
        let p = ReducePlan(shape: x.shape, axes: axes, keepDims: keepDims, name: "max")
        let n = p.outer * p.inner
        var out = [Float](repeating: -.infinity, count: n)
        var arg = [Int](repeating: 0, count: n)
        x.scalars.withUnsafeBufferPointer { px in
            out.withUnsafeMutableBufferPointer { po in
                arg.withUnsafeMutableBufferPointer { pi in
                    let px = px.baseAddress!, po = UnsafeSendable(po.baseAddress!), pi = UnsafeSendable(pi.baseAddress!)
                    Threads.parallelFor(p.outer, chunk: p.chunk) { os in
                        for o in os {
                            let b = p.base(o)
                            for i in 0..<p.inner {
                                var best = -Float.infinity, bestAt = b + i
                                for r in p.reducedOffsets {
                                    for j in 0..<p.run {
                                        let at = b + r + j + i
                                        if px[at] > best { best = px[at]; bestAt = at }
                                    }
                                }
                                po.value[o * p.inner + i] = best
                                pi.value[o * p.inner + i] = bestAt
                            }
                        }
                    }
                }
            }
        }
        return (Tensor(shape: p.outShape, scalars: out), arg)
    }

    /// Gradient of `max`: `grad` (the output's shape, any keepDims) scattered to `argmax`.
    public static func maxBackward(_ grad: Tensor, argmax: [Int], inputShape: [Int]) -> Tensor {
        precondition(grad.count == argmax.count, "maxBackward: grad \(grad.shape) vs \(argmax.count) argmax entries")
        var out = Tensor(zeros: inputShape)
        for (g, at) in Swift.zip(grad.scalars, argmax) { out.scalars[at] += g }
        return out
    }

    /// Variance over `axes`: `sum (x - mean)^2 / (n - 1)` when `unbiased`, else `/ n` (two passes).
    public static func variance(_ x: Tensor, axes: [Int], unbiased: Bool, keepDims: Bool = false) -> Tensor {
        let p = ReducePlan(shape: x.shape, axes: axes, keepDims: keepDims, name: "variance")
        let m = mean(x, axes: axes, keepDims: keepDims)
        let denom = Float(p.reducedCount - (unbiased ? 1 : 0))
        var out = [Float](repeating: 0, count: p.outer * p.inner)
        x.scalars.withUnsafeBufferPointer { px in
            m.scalars.withUnsafeBufferPointer { pm in
                out.withUnsafeMutableBufferPointer { po in
                    let px = px.baseAddress!, pm = pm.baseAddress!, po = UnsafeSendable(po.baseAddress!)
                    Threads.parallelFor(p.outer, chunk: p.chunk) { os in
                        for o in os {
                            let b = p.base(o)
                            for i in 0..<p.inner {
                                let mu = pm[o * p.inner + i]
                                var acc = 0.0
                                for r in p.reducedOffsets {
                                    for j in 0..<p.run { let d = px[b + r + j + i] - mu; acc += Double(d * d) }
                                }
                                po.value[o * p.inner + i] = Float(acc) / denom
                            }
                        }
                    }
                }
            }
        }
        return Tensor(shape: p.outShape, scalars: out)
    }

    /// Sums a gradient of a broadcast result back to the shape of the operand that was broadcast:
    /// leading extra axes and axes where `shape` has extent 1 are summed.
    public static func reduceToShape(_ grad: Tensor, _ shape: [Int]) -> Tensor {
        if grad.shape == shape { return grad }
        precondition(broadcastShape(grad.shape, shape) == grad.shape,
                     "reduceToShape: \(shape) does not broadcast to \(grad.shape)")
        let pad = grad.rank - shape.count
        var axes = Array(0..<pad)
        for (i, n) in shape.enumerated() where n == 1 && grad.shape[i + pad] != 1 { axes.append(i + pad) }
        if axes.isEmpty { return grad.reshaped(shape) }
        return sum(grad, axes: axes, keepDims: true).reshaped(shape)
    }
}
