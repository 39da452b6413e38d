import Foundation
import TensorCore

// INTERIM naive kernels (direct loops), used only until the TensorCore kernels of the same meaning
// land on branch `tensor`; then `Kernels` calls TensorCore and these files are deleted. They exist so
// the autograd, its gradient checks and the golden test can run today. Not optimised on purpose.

enum Interim {
    /// NumPy broadcast of two shapes (aligned at the right).
    static func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int] {
        let r = Swift.max(a.count, b.count)
        let pa = [Int](repeating: 1, count: r - a.count) + a
        let pb = [Int](repeating: 1, count: r - b.count) + b
        return zip(pa, pb).map { x, y in
            precondition(x == y || x == 1 || y == 1, "broadcast: shapes \(a) and \(b) are incompatible")
            return Swift.max(x, y)
        }
    }

    /// Strides of `shape` seen from a rank-`r` broadcast result (0 on broadcast axes).
    static func broadcastStrides(_ shape: [Int], rank r: Int, out: [Int]) -> [Int] {
        let p = [Int](repeating: 1, count: r - shape.count) + shape
        var s = [Int](repeating: 0, count: r)
        var acc = 1
        for i in stride(from: r - 1, through: 0, by: -1) {
            s[i] = (p[i] == 1 && out[i] != 1) ? 0 : acc
            acc *= p[i]
        }
        return s
    }

    static func binary(_ a: Tensor, _ b: Tensor, _ f: (Float, Float) -> Float) -> Tensor {
        let os = broadcastShape(a.shape, b.shape)
        let r = os.count
        let sa = broadcastStrides(a.shape, rank: r, out: os), sb = broadcastStrides(b.shape, rank: r, out: os)
        let n = os.reduce(1, *)
        var out = [Float](repeating: 0, count: n)
        var idx = [Int](repeating: 0, count: r)
        for i in 0..<n {
            var oa = 0, ob = 0
            for d in 0..<r { oa += idx[d] * sa[d]; ob += idx[d] * sb[d] }
            out[i] = f(a.scalars[oa], b.scalars[ob])
            var d = r - 1
            while d >= 0 { idx[d] += 1; if idx[d] < os[d] { break }; idx[d] = 0; d -= 1 }
        }
        return Tensor(shape: os, scalars: out)
    }

    static func unary(_ x: Tensor, _ f: (Float) -> Float) -> Tensor {
        Tensor(shape: x.shape, scalars: x.scalars.map(f))
    }

    static func zip2(_ x: Tensor, _ y: Tensor, _ f: (Float, Float) -> Float) -> Tensor {
        precondition(x.shape == y.shape, "elementwise: shapes \(x.shape) and \(y.shape) differ")
        return Tensor(shape: x.shape, scalars: zip(x.scalars, y.scalars).map(f))
    }

    /// Sums a broadcast gradient back to `shape`.
    static func reduceToShape(_ g: Tensor, _ shape: [Int]) -> Tensor {
        if g.shape == shape { return g }
        let r = g.shape.count
        let p = [Int](repeating: 1, count: r - shape.count) + shape
        let axes = (0..<r).filter { p[$0] == 1 && g.shape[$0] != 1 }
        return sum(g, axes: axes, keepDims: true).reshaped(shape)
    }

    static func sum(_ x: Tensor, axes: [Int], keepDims: Bool) -> Tensor {
        let kept = x.shape.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
        let r = x.shape.count
        let ks = broadcastStrides(kept, rank: r, out: x.shape)
        var out = [Double](repeating: 0, count: kept.reduce(1, *))
        var idx = [Int](repeating: 0, count: r)
        for i in 0..<x.count {
            var o = 0
            for d in 0..<r { o += idx[d] * ks[d] }
            out[o] += Double(x.scalars[i])
            var d = r - 1
            while d >= 0 { idx[d] += 1; if idx[d] < x.shape[d] { break }; idx[d] = 0; d -= 1 }
        }
        let shape = keepDims ? kept : x.shape.enumerated().filter { !axes.contains($0.offset) }.map(\.element)
        return Tensor(shape: shape, scalars: out.map { Float($0) })
    }

    static func max(_ x: Tensor, axes: [Int], keepDims: Bool) -> (Tensor, [Int]) {
        let kept = x.shape.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
        let r = x.shape.count
        let ks = broadcastStrides(kept, rank: r, out: x.shape)
        let m = kept.reduce(1, *)
        var best = [Float](repeating: -.infinity, count: m)
        var arg = [Int](repeating: -1, count: m)
        var idx = [Int](repeating: 0, count: r)
        for i in 0..<x.count {
            var o = 0
            for d in 0..<r { o += idx[d] * ks[d] }
            if arg[o] < 0 || x.scalars[i] > best[o] { best[o] = x.scalars[i]; arg[o] = i }
            var d = r - 1
            while d >= 0 { idx[d] += 1; if idx[d] < x.shape[d] { break }; idx[d] = 0; d -= 1 }
        }
        let shape = keepDims ? kept : x.shape.enumerated().filter { !axes.contains($0.offset) }.map(\.element)
        return (Tensor(shape: shape, scalars: best), arg)
    }

    static func permute(_ x: Tensor, _ perm: [Int]) -> Tensor {
        let r = x.shape.count
        let os = perm.map { x.shape[$0] }
        let xs = x.strides
        let ps = perm.map { xs[$0] }
        var out = [Float](repeating: 0, count: x.count)
        var idx = [Int](repeating: 0, count: r)
        for i in 0..<x.count {
            var o = 0
            for d in 0..<r { o += idx[d] * ps[d] }
            out[i] = x.scalars[o]
            var d = r - 1
            while d >= 0 { idx[d] += 1; if idx[d] < os[d] { break }; idx[d] = 0; d -= 1 }
        }
        return Tensor(shape: os, scalars: out)
    }

    /// (outer, axis extent, inner) view of `shape` around `axis`.
    static func split(_ shape: [Int], _ axis: Int) -> (Int, Int, Int) {
        (shape[..<axis].reduce(1, *), shape[axis], shape[(axis + 1)...].reduce(1, *))
    }

    static func slice(_ x: Tensor, axis: Int, start: Int, end: Int) -> Tensor {
        let (o, n, inner) = split(x.shape, axis)
        var os = x.shape; os[axis] = end - start
        var out = [Float](); out.reserveCapacity(os.reduce(1, *))
        for a in 0..<o { out += x.scalars[(a * n + start) * inner ..< (a * n + end) * inner] }
        return Tensor(shape: os, scalars: out)
    }

    static func sliceBackward(_ g: Tensor, inputShape: [Int], axis: Int, start: Int) -> Tensor {
        let (o, n, inner) = split(inputShape, axis)
        let m = g.shape[axis]
        var out = [Float](repeating: 0, count: inputShape.reduce(1, *))
        for a in 0..<o {
            for j in 0..<(m * inner) { out[(a * n + start) * inner + j] = g.scalars[a * m * inner + j] }
        }
        return Tensor(shape: inputShape, scalars: out)
    }

    static func concat(_ xs: [Tensor], axis: Int) -> Tensor {
        var os = xs[0].shape
        os[axis] = xs.map { $0.shape[axis] }.reduce(0, +)
        let (o, _, inner) = split(os, axis)
        var out = [Float](); out.reserveCapacity(os.reduce(1, *))
        for a in 0..<o {
            for x in xs {
                var s = x.shape; s[axis] = os[axis]
                precondition(s == os, "concat: shape \(x.shape) does not match \(os) off axis \(axis)")
                let m = x.shape[axis] * inner
                out += x.scalars[a * m ..< (a + 1) * m]
            }
        }
        return Tensor(shape: os, scalars: out)
    }
}
