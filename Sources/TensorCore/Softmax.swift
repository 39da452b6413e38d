import Foundation

/// Softmax and log-softmax over the last axis, forward and backward; rows run in parallel.
extension Kernels {
    /// Applies `body(row, rowIn, rowOut, n)` to each row of length `n = x.shape.last`.
    @inline(__always)
    static func rowwise(_ x: Tensor, _ name: String,
                        _ body: (Int, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void) -> Tensor {
        precondition(x.rank >= 1, "\(name): need rank >= 1, got \(x.shape)")
        let n = x.shape[x.rank - 1]
        var out = uninitializedStorage(x.count)
        if out.isEmpty || n == 0 { return x }
        x.scalars.withUnsafeBufferPointer { px in
            out.withUnsafeMutableBufferPointer { po in
                let px = px.baseAddress!, po = UnsafeSendable(po.baseAddress!)
                Threads.parallelFor(x.count / n, chunk: Swift.max(1, elementChunk / n)) { rs in
                    for r in rs { body(r, px + r * n, po.value + r * n, n) }
                }
            }
        }
        return Tensor(shape: x.shape, scalars: out)
    }

    /// `y_i = e^(x_i - max) / sum_j e^(x_j - max)` over the last axis.
    public static func softmax(_ x: Tensor) -> Tensor {
        rowwise(x, "softmax") { _, src, dst, n in softmaxRow(src, dst, n) }   // RowMath.swift
    }

    /// `y_i = x_i - max - log sum_j e^(x_j - max)` over the last axis.
    public static func logSoftmax(_ x: Tensor) -> Tensor {
        rowwise(x, "logSoftmax") { _, src, dst, n in
            var m = -Float.infinity
            for i in 0..<n { m = Swift.max(m, src[i]) }
            var s: Float = 0
            for i in 0..<n { s += fastExp(src[i] - m) }
            let lse = m + Foundation.log(s)
            for i in 0..<n { dst[i] = src[i] - lse }
        }
    }

    /// `dx = y (g - sum(g y))` per row, given the softmax output `y`.
    public static func softmaxBackward(_ grad: Tensor, output y: Tensor) -> Tensor {
        precondition(grad.shape == y.shape, "softmaxBackward: grad \(grad.shape) vs output \(y.shape)")
        let n = y.shape[y.rank - 1]
        return grad.scalars.withUnsafeBufferPointer { pg in
            let pg = pg.baseAddress!
            return rowwise(y, "softmaxBackward") { r, py, dst, _ in
                softmaxBackwardRow(pg + r * n, py, dst, n)
            }
        }
    }

    /// `dx = g - e^y sum(g)` per row, given the log-softmax output `y`.
    public static func logSoftmaxBackward(_ grad: Tensor, output y: Tensor) -> Tensor {
        precondition(grad.shape == y.shape, "logSoftmaxBackward: grad \(grad.shape) vs output \(y.shape)")
        let n = y.shape[y.rank - 1]
        return grad.scalars.withUnsafeBufferPointer { pg in
            let pg = pg.baseAddress!
            return rowwise(y, "logSoftmaxBackward") { r, py, dst, _ in
                let g = pg + r * n
                var s: Float = 0
                for i in 0..<n { s += g[i] }
                for i in 0..<n { dst[i] = g[i] - fastExp(py[i]) * s }
            }
        }
    }
}
