/// Scaled dot-product attention, composed from the batched matmul and softmax kernels.
///
/// `S = scale * Q K^T + mask`, `P = softmax(S)` (last axis), `O = P V`, `scale = 1/sqrt(D)` by default.
/// Shapes: `q [B, H, Lq, D]`, `k [B, H, Lk, D]`, `v [B, H, Lk, Dv]`, `mask` additive and
/// broadcastable to `[B, H, Lq, Lk]` (e.g. `[Lq, Lk]` or `[B, 1, Lq, Lk]`), output `[B, H, Lq, Dv]`.
/// Backward: `dV = P^T dO`, `dP = dO V^T`, `dS = P (dP - rowsum(dP P))`, `dQ = scale dS K`, `dK = scale dS^T Q`.
public struct AttentionResult: Sendable {
    /// `[B, H, Lq, Dv]`.
    public var output: Tensor
    /// Attention probabilities `[B, H, Lq, Lk]`, saved for the backward pass.
    public var probs: Tensor
}

extension Kernels {
    /// Forward attention; see `AttentionResult`.
    public static func attention(q: Tensor, k: Tensor, v: Tensor, mask: Tensor? = nil, scale: Float? = nil) -> AttentionResult {
        precondition(q.rank == 4 && k.rank == 4 && v.rank == 4 && q.shape[0] == k.shape[0] && q.shape[1] == k.shape[1]
                     && q.shape[3] == k.shape[3] && k.shape[0...2] == v.shape[0...2],
                     "attention: q \(q.shape), k \(k.shape), v \(v.shape) must be [B, H, Lq, D], [B, H, Lk, D], [B, H, Lk, Dv]")
        let s = scale ?? 1 / Float(q.shape[3]).squareRoot()
        // Scale the query [.., Lq, D] rather than the scores [.., Lq, Lk]: the same product up to
        // rounding, and one pass over the (usually much larger) score matrix less.
        var scores = matmul(Kernels.scale(q, s), k, transposeB: true)
        if let mask {
            precondition(broadcastShape(scores.shape, mask.shape) == scores.shape,
                         "attention: mask \(mask.shape) does not broadcast to scores \(scores.shape)")
            scores = add(scores, mask)
        }
        let p = softmax(scores)
        return AttentionResult(output: matmul(p, v), probs: p)
    }

    /// Gradients `(dq, dk, dv)` of `attention` given `grad = dL/dO` and the saved probabilities.
    /// The mask gets no gradient (it is a constant).
    public static func attentionBackward(_ grad: Tensor, q: Tensor, k: Tensor, v: Tensor, probs: Tensor,
                                         scale: Float? = nil) -> (q: Tensor, k: Tensor, v: Tensor) {
        precondition(grad.shape == Array(q.shape.dropLast()) + [v.shape[3]],
                     "attentionBackward: grad \(grad.shape) vs q \(q.shape), v \(v.shape)")
        let s = scale ?? 1 / Float(q.shape[3]).squareRoot()
        let dv = matmul(probs, grad, transposeA: true)
        let dp = matmul(grad, v, transposeB: true)
        // dS without the scale; it is applied to the smaller dq and dk instead (see `attention`).
        let ds = softmaxBackward(dp, output: probs)
        let dq = Kernels.scale(matmul(ds, k), s)
        let dk = Kernels.scale(matmul(ds, q, transposeA: true), s)
        return (dq, dk, dv)
    }
}
