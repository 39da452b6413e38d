import Foundation
import TensorCore

extension Kernels {
    // MARK: normalisation. mean and rstd are saved per normalised row ([N, G] or [.., 1]).
    static func groupNorm(_ x: Tensor, groups: Int, weight: Tensor?, bias: Tensor?, eps: Float) -> (Tensor, Tensor, Tensor) { // INTERIM
        let n = x.shape[0], c = x.shape[1]
        let (xhat, mean, rstd) = Interim.normalizeRows(x, rows: n * groups, eps: eps)
        let y = affine(Tensor(shape: x.shape, scalars: xhat), channels: c, inner: x.count / (n * c), weight, bias)
        return (y, Tensor(shape: [n, groups], scalars: mean), Tensor(shape: [n, groups], scalars: rstd))
    }
    static func groupNormBackward(_ g: Tensor, input x: Tensor, mean: Tensor, rstd: Tensor, weight: Tensor?, groups: Int) -> (Tensor, Tensor?, Tensor?) { // INTERIM
        let n = x.shape[0], c = x.shape[1]
        return normBackward(g, x, mean: mean.scalars, rstd: rstd.scalars, rows: n * groups, channels: c, inner: x.count / (n * c), weight: weight)
    }
    static func layerNorm(_ x: Tensor, weight: Tensor?, bias: Tensor?, eps: Float) -> (Tensor, Tensor, Tensor) { // INTERIM
        let d = x.shape.last!, rows = x.count / d
        let (xhat, mean, rstd) = Interim.normalizeRows(x, rows: rows, eps: eps)
        let y = affine(Tensor(shape: x.shape, scalars: xhat), channels: d, inner: 1, weight, bias)
        var ks = x.shape; ks[ks.count - 1] = 1
        return (y, Tensor(shape: ks, scalars: mean), Tensor(shape: ks, scalars: rstd))
    }
    static func layerNormBackward(_ g: Tensor, input x: Tensor, mean: Tensor, rstd: Tensor, weight: Tensor?) -> (Tensor, Tensor?, Tensor?) { // INTERIM
        let d = x.shape.last!
        return normBackward(g, x, mean: mean.scalars, rstd: rstd.scalars, rows: x.count / d, channels: d, inner: 1, weight: weight)
    }

    /// y = xhat * w[c] + b[c], channel c = (i / inner) % channels.
    private static func affine(_ xhat: Tensor, channels: Int, inner: Int, _ w: Tensor?, _ b: Tensor?) -> Tensor {
        guard w != nil || b != nil else { return xhat }
        var y = xhat.scalars
        for i in 0..<y.count {
            let c = (i / inner) % channels
            y[i] = y[i] * (w?.scalars[c] ?? 1) + (b?.scalars[c] ?? 0)
        }
        return Tensor(shape: xhat.shape, scalars: y)
    }

    private static func normBackward(_ g: Tensor, _ x: Tensor, mean: [Float], rstd: [Float], rows: Int, channels: Int, inner: Int, weight: Tensor?) -> (Tensor, Tensor?, Tensor?) {
        let m = x.count / rows
        var xhat = [Float](repeating: 0, count: x.count), dxhat = g.scalars
        var dw = [Float](repeating: 0, count: channels), db = [Float](repeating: 0, count: channels)
        for i in 0..<x.count {
            let r = i / m, c = (i / inner) % channels
            xhat[i] = (x.scalars[i] - mean[r]) * rstd[r]
            dw[c] += g.scalars[i] * xhat[i]
            db[c] += g.scalars[i]
            dxhat[i] *= weight?.scalars[c] ?? 1
        }
        let dx = Interim.normalizeRowsBackward(dxhat: dxhat, xhat: xhat, rstd: rstd, rows: rows)
        return (Tensor(shape: x.shape, scalars: dx), Tensor(shape: [channels], scalars: dw), Tensor(shape: [channels], scalars: db))
    }

    // MARK: softmax over the last axis
    static func softmax(_ x: Tensor) -> Tensor { Interim.softmaxRows(x, log: false) }                    // INTERIM
    static func softmaxBackward(_ y: Tensor, _ g: Tensor) -> Tensor { Interim.softmaxRowsBackward(y, g, log: false) } // INTERIM
    static func logSoftmax(_ x: Tensor) -> Tensor { Interim.softmaxRows(x, log: true) }                  // INTERIM
    static func logSoftmaxBackward(_ y: Tensor, _ g: Tensor) -> Tensor { Interim.softmaxRowsBackward(y, g, log: true) } // INTERIM

    // MARK: attention, composed here from matmul + softmax kernels; returns the probabilities for backward.
    static func attention(_ q: Tensor, _ k: Tensor, _ v: Tensor, mask: Tensor?, scale s: Float) -> (Tensor, Tensor) {
        var scores = scale(matmul(q, k, transA: false, transB: true), s)
        if let mask { scores = add(scores, mask) }
        precondition(scores.shape == [q.shape[0], q.shape[1], q.shape[2], k.shape[2]],
                     "attention: mask \(mask?.shape ?? []) does not broadcast to \(q.shape[0...2]) x \(k.shape[2])")
        let p = softmax(scores)
        return (matmul(p, v, transA: false, transB: false), p)
    }
    static func attentionBackward(_ g: Tensor, q: Tensor, k: Tensor, v: Tensor, probs p: Tensor, scale s: Float) -> (Tensor, Tensor, Tensor) {
        let dv = matmul(p, g, transA: true, transB: false)
        let dp = matmul(g, v, transA: false, transB: true)
        let ds = scale(softmaxBackward(p, dp), s)
        return (matmul(ds, k, transA: false, transB: false), matmul(ds, q, transA: true, transB: false), dv)
    }

    // MARK: embedding, losses
    static func embedding(_ idx: [Int32], table: Tensor) -> Tensor { Interim.embedding(idx, table: table) } // INTERIM
    static func embeddingBackward(_ g: Tensor, indices: [Int32], vocabulary: Int) -> Tensor {             // INTERIM
        Interim.embeddingBackward(g, idx: indices, vocabulary: vocabulary)
    }
    static func mse(_ a: Tensor, _ b: Tensor) -> Tensor {                                                   // INTERIM
        let d = sub(a, b)
        return Tensor(scalar: Float(d.scalars.reduce(0.0) { $0 + Double($1 * $1) } / Double(Swift.max(d.count, 1))))
    }
    static func mseBackward(_ a: Tensor, _ b: Tensor) -> Tensor { scale(sub(a, b), 2 / Float(Swift.max(a.count, 1))) } // INTERIM
    static func crossEntropy(_ logits: Tensor, targets: [Int32]) -> (Tensor, Tensor) { Interim.crossEntropy(logits, targets: targets) } // INTERIM
}
