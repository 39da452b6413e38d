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

/// Multi-head attention on the projections' layout: q [B, Lq, H D], k [B, Lk, H D], v [B, Lk, H Dv]
/// -> [B, Lq, H Dv], equal (up to rounding) to
/// `merge(scaledDotProductAttention(split(q), split(k), split(v)))` with split = reshape to
/// [B, L, H, D] and permute to [B, H, L, D], merge its inverse. One fused kernel per head
/// (`Kernels.multiHeadAttention`), so no permute copies and no separate softmax pass. `mask`: additive,
/// [Lq, Lk] or [1 or B, 1 or H, Lq, Lk]; it gets no gradient.
public func multiHeadAttention(_ q: Variable, _ k: Variable, _ v: Variable, heads: Int, scale: Float? = nil, mask: Tensor? = nil) -> Variable {
    let qv = q.value, kv = k.value, vv = v.value
    // The probabilities are kept only when a backward pass can read them (what `Variable.record` records), and only up
    // to `keptProbabilityLimit`: above it the backward pass makes them again, to the same bits.
    let needsGrad = GradMode.isEnabled && [q, k, v].contains { $0.requiresGrad }
    let scores = qv.shape.count == 3 && kv.shape.count == 3 ? qv.shape[0] * heads * qv.shape[1] * kv.shape[1] : 0
    let keep = needsGrad && scores <= keptProbabilityLimit
    let r = Kernels.multiHeadAttention(q: qv, k: kv, v: vv, heads: heads, scale: scale, mask: mask, keepProbabilities: keep)
    guard needsGrad else { return Variable(r.output, requiresGrad: false) }
    let probs = r.probs
    return Variable.record("multiHeadAttention", r.output, inputs: [q, k, v]) { g in
        let (dq, dk, dv) = Kernels.multiHeadAttentionBackward(g, q: qv, k: kv, v: vv, probs: probs, mask: probs == nil ? mask : nil,
                                                              heads: heads, scale: scale)
        return [dq, dk, dv]
    }
}

/// Probabilities `multiHeadAttention` keeps for its backward pass at most ([B, H, Lq, Lk] elements): 8M floats, 32 MB,
/// glibc's largest block served from the heap (`TensorCore`'s `Allocator`). Larger arrays would be mapped and zero-filled
/// page by page at every call (a [reference, image] set batch at 32x32: 0.5 GB a layer, 20 s of a 23 s step in the
/// kernel); above the limit the backward pass recomputes each head's probabilities in a scratch block instead.
public let keptProbabilityLimit = 8 << 20
