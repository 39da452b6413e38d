/// Direct-loop reference kernels, used by tests to check the fast kernels. No BLAS, no threads,
/// Double accumulation, multi-index loops that follow the definitions literally.
enum Reference {
    /// Multi-index of flat offset `o` in `shape`.
    static func index(_ o: Int, _ shape: [Int]) -> [Int] {
        var idx = [Int](repeating: 0, count: shape.count), rem = o
        for i in stride(from: shape.count - 1, through: 0, by: -1) { idx[i] = rem % shape[i]; rem /= shape[i] }
        return idx
    }

    /// Flat offset of `idx` in `shape`.
    static func offset(_ idx: [Int], _ shape: [Int]) -> Int {
        var o = 0
        for (x, n) in Swift.zip(idx, shape) { o = o * n + x }
        return o
    }

    /// Element of `t` at the broadcast multi-index `idx` (for a result of rank `idx.count`).
    static func broadcastElement(_ t: Tensor, _ idx: [Int]) -> Float {
        let pad = idx.count - t.rank
        var o = 0
        for i in 0..<t.rank { o = o * t.shape[i] + (t.shape[i] == 1 ? 0 : idx[i + pad]) }
        return t.scalars[o]
    }

    static func binary(_ a: Tensor, _ b: Tensor, _ op: (Float, Float) -> Float) -> Tensor {
        let shape = broadcastShape(a.shape, b.shape)
        var out = Tensor(zeros: shape)
        for o in 0..<out.count {
            let idx = index(o, shape)
            out.scalars[o] = op(broadcastElement(a, idx), broadcastElement(b, idx))
        }
        return out
    }

    /// Sum / max / variance over `axes` by visiting every input element and its output slot.
    static func reduce(_ x: Tensor, axes: [Int], keepDims: Bool) -> (sum: Tensor, max: Tensor, count: Int) {
        let axesN = Set(axes.map { $0 < 0 ? $0 + x.rank : $0 })
        let keptShape = x.shape.enumerated().map { axesN.contains($0.offset) ? 1 : $0.element }
        var sums = [Double](repeating: 0, count: keptShape.reduce(1, *))
        var maxs = [Float](repeating: -.infinity, count: sums.count)
        for o in 0..<x.count {
            var idx = index(o, x.shape)
            for a in axesN { idx[a] = 0 }
            let t = offset(idx, keptShape)
            sums[t] += Double(x.scalars[o])
            maxs[t] = Swift.max(maxs[t], x.scalars[o])
        }
        let outShape = keepDims ? keptShape : x.shape.enumerated().filter { !axesN.contains($0.offset) }.map(\.element)
        let n = axesN.map { x.shape[$0] }.reduce(1, *)
        return (Tensor(shape: outShape, scalars: sums.map(Float.init)), Tensor(shape: outShape, scalars: maxs), n)
    }

    static func variance(_ x: Tensor, axes: [Int], unbiased: Bool) -> Tensor {
        let axesN = Set(axes.map { $0 < 0 ? $0 + x.rank : $0 })
        let r = reduce(x, axes: axes, keepDims: true)
        var acc = [Double](repeating: 0, count: r.sum.count)
        for o in 0..<x.count {
            var idx = index(o, x.shape)
            for a in axesN { idx[a] = 0 }
            let t = offset(idx, r.sum.shape)
            let d = Double(x.scalars[o]) - Double(r.sum.scalars[t]) / Double(r.count)
            acc[t] += d * d
        }
        let denom = Double(r.count - (unbiased ? 1 : 0))
        return Tensor(shape: r.sum.shape, scalars: acc.map { Float($0 / denom) })
    }

    /// `[.., M, K] x [.., K, N]` by triple loops (b may be rank 2 and shared).
    static func matmul(_ a: Tensor, _ b: Tensor) -> Tensor {
        let m = a.shape[a.rank - 2], k = a.shape[a.rank - 1], n = b.shape[b.rank - 1]
        let batch = a.count / (m * k)
        var out = [Float](repeating: 0, count: batch * m * n)
        for bi in 0..<batch {
            let bo = b.rank == 2 ? 0 : bi * k * n
            for i in 0..<m { for j in 0..<n {
                var s = 0.0
                for p in 0..<k { s += Double(a.scalars[bi * m * k + i * k + p]) * Double(b.scalars[bo + p * n + j]) }
                out[bi * m * n + i * n + j] = Float(s)
            } }
        }
        return Tensor(shape: Array(a.shape.dropLast(2)) + [m, n], scalars: out)
    }

    /// Swap of the last two axes by loops.
    static func transposeLast2(_ t: Tensor) -> Tensor {
        let r = t.rank, m = t.shape[r - 2], n = t.shape[r - 1]
        var out = Tensor(zeros: Array(t.shape.dropLast(2)) + [n, m])
        for b in 0..<(t.count / Swift.max(1, m * n)) {
            for i in 0..<m { for j in 0..<n { out.scalars[b * m * n + j * m + i] = t.scalars[b * m * n + i * n + j] } }
        }
        return out
    }
}
