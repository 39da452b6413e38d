import TensorCore

/// Scaled dot-product attention: q [B, H, Lq, D], k and v [B, H, Lk, D] ->
/// softmax(q k^T * scale + mask) v, [B, H, Lq, D]. `scale` defaults to 1/sqrt(D). `mask` is an
/// additive constant broadcastable to [B, H, Lq, Lk] (e.g. [Lq, Lk] or [B, 1, Lq, Lk]; -inf or a
/// large negative value hides a key); it gets no gradient.
public func scaledDotProductAttention(
    _ q: Variable, _ k: Variable, _ v: Variable, mask: Tensor? = nil, scale: Float? = nil
) -> Variable {
    precondition(q.shape.count == 4 && k.shape.count == 4 && v.shape.count == 4
                 && q.shape[3] == k.shape[3] && k.shape[2] == v.shape[2]
                 && q.shape[0] == k.shape[0] && q.shape[1] == k.shape[1] && k.shape[0...1] == v.shape[0...1],
                 "attention: q \(q.shape), k \(k.shape), v \(v.shape) (want [B, H, Lq, D], [B, H, Lk, D], [B, H, Lk, Dv])")
    let s = scale ?? 1 / Float(q.shape[3]).squareRoot()
    let qv = q.value, kv = k.value, vv = v.value
    let r = Kernels.attention(q: qv, k: kv, v: vv, mask: mask, scale: s)
    let y = r.output, probs = r.probs
    return Variable.record("attention", y, inputs: [q, k, v]) { g in
        let (dq, dk, dv) = Kernels.attentionBackward(g, q: qv, k: kv, v: vv, probs: probs, scale: s)
        return [dq, dk, dv]
    }
}
