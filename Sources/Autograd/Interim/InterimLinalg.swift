import Foundation
import TensorCore

// INTERIM naive kernels: see InterimElementwise.swift.

extension Interim {
    /// [.., M, K] x [.., K, N] (either side transposed over its last two axes); a rank-2 b broadcasts.
    static func matmul(_ a: Tensor, _ b: Tensor, transA: Bool, transB: Bool) -> Tensor {
        let ra = a.rank, rb = b.rank
        let m = transA ? a.shape[ra - 1] : a.shape[ra - 2], ka = transA ? a.shape[ra - 2] : a.shape[ra - 1]
        let kb = transB ? b.shape[rb - 1] : b.shape[rb - 2], n = transB ? b.shape[rb - 2] : b.shape[rb - 1]
        precondition(ka == kb, "matmul: \(a.shape)\(transA ? "^T" : "") x \(b.shape)\(transB ? "^T" : "") inner dims differ")
        let batch = a.shape[..<(ra - 2)].reduce(1, *)
        precondition(rb == 2 || Array(b.shape[..<(rb - 2)]) == Array(a.shape[..<(ra - 2)]),
                     "matmul: batch dims of \(a.shape) and \(b.shape) differ")
        let sa = a.shape[ra - 2] * a.shape[ra - 1], sb = rb == 2 ? 0 : b.shape[rb - 2] * b.shape[rb - 1]
        let lda = a.shape[ra - 1], ldb = b.shape[rb - 1]
        var out = [Float](repeating: 0, count: batch * m * n)
        for t in 0..<batch {
            for i in 0..<m {
                for j in 0..<n {
                    var acc: Float = 0
                    for p in 0..<ka {
                        let av = transA ? a.scalars[t * sa + p * lda + i] : a.scalars[t * sa + i * lda + p]
                        let bv = transB ? b.scalars[t * sb + j * ldb + p] : b.scalars[t * sb + p * ldb + j]
                        acc += av * bv
                    }
                    out[(t * m + i) * n + j] = acc
                }
            }
        }
        return Tensor(shape: Array(a.shape[..<(ra - 2)]) + [m, n], scalars: out)
    }

    static func conv2d(_ x: Tensor, _ w: Tensor, bias: Tensor?, stride s: Int, padding p: Int) -> Tensor {
        let (n, ci, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (co, kh, kw) = (w.shape[0], w.shape[2], w.shape[3])
        let oh = (h + 2 * p - kh) / s + 1, ow = (wd + 2 * p - kw) / s + 1
        var out = [Float](repeating: 0, count: n * co * oh * ow)
        for b in 0..<n { for o in 0..<co { for y in 0..<oh { for xx in 0..<ow {
            var acc: Float = bias?.scalars[o] ?? 0
            for c in 0..<ci { for i in 0..<kh { for j in 0..<kw {
                let iy = y * s - p + i, ix = xx * s - p + j
                if iy >= 0 && iy < h && ix >= 0 && ix < wd {
                    acc += x.scalars[((b * ci + c) * h + iy) * wd + ix] * w.scalars[((o * ci + c) * kh + i) * kw + j]
                }
            } } }
            out[((b * co + o) * oh + y) * ow + xx] = acc
        } } } }
        return Tensor(shape: [n, co, oh, ow], scalars: out)
    }

    /// Returns (dx, dw) for y = conv2d(x, w).
    static func conv2dBackward(_ g: Tensor, x: [Int], xv: Tensor?, w: [Int], wv: Tensor?, stride s: Int, padding p: Int) -> (Tensor, Tensor) {
        let (n, ci, h, wd) = (x[0], x[1], x[2], x[3])
        let (co, kh, kw) = (w[0], w[2], w[3])
        let oh = g.shape[2], ow = g.shape[3]
        var dx = [Float](repeating: 0, count: x.reduce(1, *)), dw = [Float](repeating: 0, count: w.reduce(1, *))
        for b in 0..<n { for o in 0..<co { for y in 0..<oh { for xx in 0..<ow {
            let gv = g.scalars[((b * co + o) * oh + y) * ow + xx]
            for c in 0..<ci { for i in 0..<kh { for j in 0..<kw {
                let iy = y * s - p + i, ix = xx * s - p + j
                if iy >= 0 && iy < h && ix >= 0 && ix < wd {
                    let xi = ((b * ci + c) * h + iy) * wd + ix, wi = ((o * ci + c) * kh + i) * kw + j
                    if let wv { dx[xi] += gv * wv.scalars[wi] }
                    if let xv { dw[wi] += gv * xv.scalars[xi] }
                }
            } } }
        } } } }
        return (Tensor(shape: x, scalars: dx), Tensor(shape: w, scalars: dw))
    }

    /// Normalises rows of `x` viewed as [rows, count/rows]; returns (xhat, mean[rows], rstd[rows]).
    static func normalizeRows(_ x: Tensor, rows: Int, eps: Float) -> ([Float], [Float], [Float]) {
        let m = x.count / rows
        var xhat = [Float](repeating: 0, count: x.count), mean = [Float](), rstd = [Float]()
        for r in 0..<rows {
            let seg = x.scalars[r * m ..< (r + 1) * m]
            let mu = seg.reduce(0.0) { $0 + Double($1) } / Double(m)
            let v = seg.reduce(0.0) { $0 + (Double($1) - mu) * (Double($1) - mu) } / Double(m)
            let rs = 1 / (v + Double(eps)).squareRoot()
            for (k, val) in seg.enumerated() { xhat[r * m + k] = Float((Double(val) - mu) * rs) }
            mean.append(Float(mu)); rstd.append(Float(rs))
        }
        return (xhat, mean, rstd)
    }

    /// dx for rows of xhat given dxhat: rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)).
    static func normalizeRowsBackward(dxhat: [Float], xhat: [Float], rstd: [Float], rows: Int) -> [Float] {
        let m = xhat.count / rows
        var dx = [Float](repeating: 0, count: xhat.count)
        for r in 0..<rows {
            var a = 0.0, b = 0.0
            for k in 0..<m { a += Double(dxhat[r * m + k]); b += Double(dxhat[r * m + k] * xhat[r * m + k]) }
            a /= Double(m); b /= Double(m)
            for k in 0..<m {
                dx[r * m + k] = rstd[r] * Float(Double(dxhat[r * m + k]) - a - Double(xhat[r * m + k]) * b)
            }
        }
        return dx
    }
}
