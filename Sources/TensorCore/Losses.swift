import Foundation

/// Embedding lookup and the two losses the trainers use, each with its gradient.
extension Kernels {
    /// `out[i, :] = table[indices[i], :]`: `[N]` indices into `[V, D]` gives `[N, D]`.
    public static func embedding(_ indices: [Int32], table: Tensor) -> Tensor {
        precondition(table.rank == 2, "embedding: table must be [V, D], got \(table.shape)")
        let v = table.shape[0], d = table.shape[1]
        var out = [Float](repeating: 0, count: indices.count * d)
        for (i, ix) in indices.enumerated() {
            let t = Int(ix)
            precondition(t >= 0 && t < v, "embedding: index \(ix) at position \(i) outside a table of \(v) rows")
            for j in 0..<d { out[i * d + j] = table.scalars[t * d + j] }
        }
        return Tensor(shape: [indices.count, d], scalars: out)
    }

    /// Backward of `embedding`: `grad [N, D]` scatter-added into a zero `[V, D]` (repeated indices sum).
    public static func embeddingBackward(_ grad: Tensor, indices: [Int32], vocabularySize v: Int) -> Tensor {
        precondition(grad.rank == 2 && grad.shape[0] == indices.count, "embeddingBackward: grad \(grad.shape) for \(indices.count) indices")
        let d = grad.shape[1]
        var out = [Float](repeating: 0, count: v * d)
        for (i, ix) in indices.enumerated() {
            let t = Int(ix)
            precondition(t >= 0 && t < v, "embeddingBackward: index \(ix) at position \(i) outside \(v) rows")
            for j in 0..<d { out[t * d + j] += grad.scalars[i * d + j] }
        }
        return Tensor(shape: [v, d], scalars: out)
    }

    /// `mean((a - b)^2)` as a rank-0 tensor (Double accumulation).
    public static func mseLoss(_ a: Tensor, _ b: Tensor) -> Tensor {
        precondition(a.shape == b.shape, "mseLoss: shapes \(a.shape) and \(b.shape) must match")
        var s = 0.0
        for i in 0..<a.count { let d = Double(a.scalars[i] - b.scalars[i]); s += d * d }
        return Tensor(scalar: Float(s / Double(Swift.max(1, a.count))))
    }

    /// `dL/da = 2 (a - b) / n * g` for `L = mseLoss(a, b)` (`dL/db` is its negation).
    public static func mseLossBackward(_ a: Tensor, _ b: Tensor, grad: Float = 1) -> Tensor {
        let c = 2 * grad / Float(Swift.max(1, a.count))
        return map2(a, b, "mseLossBackward", Fn.ScaledDifference(c: c))
    }

    /// `mean_i(-log softmax(logits[i])[targets[i]])` for `logits [N, C]`, targets in `0..<C`.
    public static func crossEntropy(logits: Tensor, targets: [Int32]) -> Tensor {
        precondition(logits.rank == 2 && logits.shape[0] == targets.count,
                     "crossEntropy: logits \(logits.shape) for \(targets.count) targets")
        let c = logits.shape[1], ls = logSoftmax(logits)
        var s = 0.0
        for (i, t) in targets.enumerated() {
            precondition(t >= 0 && Int(t) < c, "crossEntropy: target \(t) at row \(i) outside \(c) classes")
            s -= Double(ls.scalars[i * c + Int(t)])
        }
        return Tensor(scalar: Float(s / Double(Swift.max(1, targets.count))))
    }

    /// `dL/dlogits = (softmax(logits) - onehot(targets)) / N * g`.
    public static func crossEntropyBackward(logits: Tensor, targets: [Int32], grad: Float = 1) -> Tensor {
        precondition(logits.rank == 2 && logits.shape[0] == targets.count,
                     "crossEntropyBackward: logits \(logits.shape) for \(targets.count) targets")
        let n = targets.count, c = logits.shape[1]
        var p = softmax(logits)
        for (i, t) in targets.enumerated() { p.scalars[i * c + Int(t)] -= 1 }
        return Kernels.scale(p, grad / Float(Swift.max(1, n)))
    }
}
