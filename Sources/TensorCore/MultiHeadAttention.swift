/// Multi-head attention fused per head, on the projections' own layout (no head permutes).
///
/// Shapes: `q [B, Lq, H D]`, `k [B, Lk, H D]`, `v [B, Lk, H Dv]`; head `h` is the column block
/// `h D ..< (h+1) D` (what `reshape [B, L, H, D] -> permute [B, H, L, D]` would give). For each
/// (b, h):  `P = softmax(scale Q_h K_h^T + M_bh)` `[Lq, Lk]`,  `O_h = P V_h`; output `[B, Lq, H Dv]`
/// (heads merged back in place), probabilities `[B, H, Lq, Lk]` kept for the backward pass.
/// Backward per head: `dV_h = P^T dO_h`, `dP = dO_h V_h^T`, `dS = P (dP - rowsum(dP P))`,
/// `dQ_h = scale dS K_h`, `dK_h = scale dS^T Q_h`. The optional additive mask M (a constant: no gradient, the
/// backward pass reads it only through P) has shape `[Lq, Lk]` or `[1 or B, 1 or H, Lq, Lk]`, as reference
/// attention's `ReferenceSetMask` gives it, or `[1 or B, 1 or H, 1, Lk]`: one bias per key, the same for every query
/// (`ReferenceSetMask.keyBias`; Lk floats per set instead of Lq Lk).
///
/// Why: the composed path (`splitHeads` permutes, batched matmul, a separate softmax pass, merge
/// permute) streams every score matrix through memory several times; here each head's
/// `[Lq, Lk]` block is made, normalised and consumed while it sits in cache, one head per task
/// (a head's sgemms run on one thread; heads are spread over `Threads`). Each head is computed by
/// one fixed sequence of calls, so results do not depend on the thread count.
public struct MultiHeadAttentionResult: Sendable {
    /// `[B, Lq, H Dv]`.
    public var output: Tensor
    /// `[B, H, Lq, Lk]`, saved for `multiHeadAttentionBackward`; nil when the forward did not keep them.
    public var probs: Tensor?
}

extension Kernels {
    static func mhaCheck(_ q: Tensor, _ k: Tensor, _ v: Tensor, heads: Int, _ name: String) -> (b: Int, lq: Int, lk: Int, d: Int, dv: Int) {
        precondition(heads >= 1 && q.rank == 3 && k.rank == 3 && v.rank == 3 && q.shape[0] == k.shape[0]
                     && k.shape[0] == v.shape[0] && k.shape[1] == v.shape[1] && q.shape[2] == k.shape[2]
                     && q.shape[2] % heads == 0 && v.shape[2] % heads == 0,
                     "\(name): q \(q.shape), k \(k.shape), v \(v.shape) with \(heads) heads must be [B, Lq, H D], [B, Lk, H D], [B, Lk, H Dv]")
        return (q.shape[0], q.shape[1], k.shape[1], q.shape[2] / heads, v.shape[2] / heads)
    }

    /// The element strides of `mask` per batch, head and query row (0 where it broadcasts), checked against the
    /// attention's sizes.
    static func mhaMaskStrides(_ mask: Tensor, b: Int, heads: Int, lq: Int, lk: Int) -> (batch: Int, head: Int, query: Int) {
        let s = mask.rank == 2 ? [1, 1] + mask.shape : mask.shape
        precondition(s.count == 4 && (s[0] == 1 || s[0] == b) && (s[1] == 1 || s[1] == heads) && (s[2] == lq || s[2] == 1)
                     && s[3] == lk,
                     "multiHeadAttention: mask \(mask.shape) is not [\(lq), \(lk)] or [1 or \(b), 1 or \(heads), 1 or \(lq), \(lk)]")
        let rows = s[2] * lk
        return (s[0] == 1 ? 0 : s[1] * rows, s[1] == 1 ? 0 : rows, s[2] == 1 ? 0 : lk)
    }

    /// Query rows per block of the forward: about 256 KB of scores (64 rows of 1024 keys), at least 8 rows, at most all.
    static func mhaQueryBlock(lk: Int, lq: Int) -> Int { Swift.min(lq, Swift.max(8, (1 << 16) / Swift.max(1, lk))) }

    /// Head `h` of batch row `bi`'s block of `mask` (nil without a mask), by `mhaMaskStrides`'s strides.
    @inline(__always)
    static func mhaHeadMask(_ mask: UnsafePointer<Float>?, _ strides: (batch: Int, head: Int, query: Int)?, batch bi: Int, head h: Int) -> UnsafePointer<Float>? {
        strides.flatMap { st in mask.map { $0 + bi * st.batch + h * st.head } }
    }

    /// One head's probabilities for query rows `rows` into `p` (`rows.count` rows of `lk`): the scaled scores by one
    /// sgemm, the mask row added (`queryStride` 0: one bias per key), each row's softmax. The forward pass and the
    /// backward pass that recomputes them call it with the same blocks, so both see the same bits.
    @inline(__always)
    static func mhaProbabilities(_ p: UnsafeMutablePointer<Float>, rows: Range<Int>, q qh: UnsafePointer<Float>, k kh: UnsafePointer<Float>,
                                 hd: Int, d: Int, lk: Int, scale s: Float, mask mh: UnsafePointer<Float>?, queryStride: Int) {
        let nr = rows.count
        sgemmOnThisThread(transA: false, transB: true, m: nr, n: lk, k: d, alpha: s,
                          a: qh + rows.lowerBound * hd, lda: hd, b: kh, ldb: hd, c: p, ldc: lk)
        if let mh {
            for r in 0..<nr {
                let pr = p + r * lk, mr = mh + (rows.lowerBound + r) * queryStride
                for i in 0..<lk { pr[i] += mr[i] }
            }
        }
        for r in 0..<nr { softmaxRow(p + r * lk, p + r * lk, lk) }
    }

    /// Forward; see `MultiHeadAttentionResult`. `scale` defaults to `1 / sqrt(D)`; `mask` is added to the scaled scores.
    /// `keepProbabilities = false` (inference: no backward pass will read them) computes each head's `[Lq, Lk]` block in
    /// a scratch buffer of one block per task instead of the whole `[B, H, Lq, Lk]` array, with the same calls in the same
    /// order, so the output is bit-identical. Why: for a batch of sets the kept array passes glibc's 32 MB heap limit
    /// (`Allocator`), and every call then maps and page-faults fresh memory (measured: 28% of JeDi sampling's CPU for a
    /// set of 5, and a batch of 8 sets slower than 8 calls).
    public static func multiHeadAttention(q: Tensor, k: Tensor, v: Tensor, heads: Int, scale: Float? = nil,
                                          mask: Tensor? = nil, keepProbabilities: Bool = true) -> MultiHeadAttentionResult {
        let (b, lq, lk, d, dv) = mhaCheck(q, k, v, heads: heads, "multiHeadAttention")
        let strides = mask.map { mhaMaskStrides($0, b: b, heads: heads, lq: lq, lk: lk) }
        let maskScalars = mask?.scalars ?? []
        let s = scale ?? 1 / Float(d).squareRoot()
        let hd = heads * d, hdv = heads * dv
        var probs = uninitializedStorage(keepProbabilities ? b * heads * lq * lk : 0)
        var out = uninitializedStorage(b * lq * hdv)
        if b * heads * lq * lk == 0 || out.isEmpty {   // no keys (or no queries): zero output, as softmax of an empty row
            return MultiHeadAttentionResult(output: Tensor(zeros: [b, lq, hdv]),
                                            probs: keepProbabilities ? Tensor(zeros: [b, heads, lq, lk]) : nil)
        }
        q.scalars.withUnsafeBufferPointer { pq in k.scalars.withUnsafeBufferPointer { pk in v.scalars.withUnsafeBufferPointer { pv in
            probs.withUnsafeMutableBufferPointer { pp in out.withUnsafeMutableBufferPointer { po in maskScalars.withUnsafeBufferPointer { pm in
                let (pq, pk, pv) = (pq.baseAddress!, pk.baseAddress!, pv.baseAddress!)
                let pm = UnsafeSendable(pm.baseAddress)
                // An empty array's buffer may still have a base address: the flag, not the pointer, says what is kept.
                let pp = UnsafeSendable(keepProbabilities ? pp.baseAddress : nil), po = UnsafeSendable(po.baseAddress!)
                // Query rows in blocks of `rows`, each block's scores made, normalised and consumed while they sit in L2
                // (a [1024, 1024] head block is 4 MB: streamed through memory six times it made level 0's self-attention
                // memory-bound).
                let rows = mhaQueryBlock(lk: lk, lq: lq)
                Threads.parallelFor(b * heads, chunk: 1) { range in
                    // Without kept probabilities, one block of scratch serves every head of this task.
                    let scratch = pp.value == nil ? UnsafeMutablePointer<Float>.allocate(capacity: rows * lk) : nil
                    defer { scratch?.deallocate() }
                    for inst in range {
                        let bi = inst / heads, h = inst % heads
                        let qh = pq + bi * lq * hd + h * d, kh = pk + bi * lk * hd + h * d, vh = pv + bi * lk * hdv + h * dv
                        let mh = mhaHeadMask(pm.value, strides, batch: bi, head: h)
                        let oh = po.value + bi * lq * hdv + h * dv
                        for r0 in stride(from: 0, to: lq, by: rows) {
                            let nr = Swift.min(rows, lq - r0)
                            let p = scratch ?? pp.value! + inst * lq * lk + r0 * lk
                            mhaProbabilities(p, rows: r0..<(r0 + nr), q: qh, k: kh, hd: hd, d: d, lk: lk, scale: s,
                                             mask: mh, queryStride: strides?.query ?? 0)
                            sgemmOnThisThread(transA: false, transB: false, m: nr, n: dv, k: lk,
                                              a: p, lda: lk, b: vh, ldb: hdv, c: oh + r0 * hdv, ldc: hdv)
                        }
                    }
                }
            } } }
        } } }
        return MultiHeadAttentionResult(output: Tensor(shape: [b, lq, hdv], scalars: out),
                                        probs: keepProbabilities ? Tensor(shape: [b, heads, lq, lk], scalars: probs) : nil)
    }

    /// Gradients `(dq, dk, dv)` of `multiHeadAttention` given `grad = dL/dO [B, Lq, H Dv]` and the
    /// saved probabilities; each in its input's layout.
    public static func multiHeadAttentionBackward(_ grad: Tensor, q: Tensor, k: Tensor, v: Tensor, probs: Tensor,
                                                  heads: Int, scale: Float? = nil) -> (q: Tensor, k: Tensor, v: Tensor) {
        multiHeadAttentionBackward(grad, q: q, k: k, v: v, probs: Optional(probs), mask: nil, heads: heads, scale: scale)
    }

    /// The same gradients without kept probabilities (`probs` nil): each head's are made again from q, k and `mask` by
    /// the forward's own calls in the forward's own blocks (`mhaProbabilities`), so the gradients are bit-identical to
    /// those from kept probabilities, for one more score product per head. Why: a batch of [reference, image] sets at
    /// 32x32 keeps [B, H, 1024, 2048] probabilities, 0.5 GB a layer, which glibc maps and the kernel zero-fills page by
    /// page every step (`Allocator`): more time than the products.
    public static func multiHeadAttentionBackward(_ grad: Tensor, q: Tensor, k: Tensor, v: Tensor, probs: Tensor?, mask: Tensor?,
                                                  heads: Int, scale: Float? = nil) -> (q: Tensor, k: Tensor, v: Tensor) {
        let (b, lq, lk, d, dv) = mhaCheck(q, k, v, heads: heads, "multiHeadAttentionBackward")
        precondition(grad.shape == [b, lq, heads * dv] && (probs == nil || probs!.shape == [b, heads, lq, lk]),
                     "multiHeadAttentionBackward: grad \(grad.shape), probs \(probs?.shape ?? []) for q \(q.shape), k \(k.shape), v \(v.shape), \(heads) heads")
        let strides = mask.map { mhaMaskStrides($0, b: b, heads: heads, lq: lq, lk: lk) }
        let maskScalars = mask?.scalars ?? []
        let kept = probs?.scalars ?? []
        let recompute = probs == nil
        let s = scale ?? 1 / Float(d).squareRoot()
        let hd = heads * d, hdv = heads * dv
        guard lq > 0 && lk > 0 && b > 0 else { return (Tensor(zeros: q.shape), Tensor(zeros: k.shape), Tensor(zeros: v.shape)) }
        // Every head's sgemms (beta 0) write its whole column block of dq, dk and dv.
        var dq = uninitializedStorage(q.count), dk = uninitializedStorage(k.count)
        var dvs = uninitializedStorage(v.count)
        do {
            q.scalars.withUnsafeBufferPointer { pq in k.scalars.withUnsafeBufferPointer { pk in v.scalars.withUnsafeBufferPointer { pv in
            grad.scalars.withUnsafeBufferPointer { pg in kept.withUnsafeBufferPointer { pp in maskScalars.withUnsafeBufferPointer { pm in
            dq.withUnsafeMutableBufferPointer { dqb in dk.withUnsafeMutableBufferPointer { dkb in dvs.withUnsafeMutableBufferPointer { dvb in
                let (pq, pk, pv, pg) = (pq.baseAddress!, pk.baseAddress!, pv.baseAddress!, pg.baseAddress!)
                let pp = UnsafeSendable(recompute ? nil : pp.baseAddress), pm = UnsafeSendable(pm.baseAddress)
                let out = UnsafeSendable((dqb.baseAddress!, dkb.baseAddress!, dvb.baseAddress!))
                let rows = mhaQueryBlock(lk: lk, lq: lq)
                Threads.parallelFor(b * heads, chunk: 1) { range in
                    let ds = UnsafeMutablePointer<Float>.allocate(capacity: lq * lk)
                    let scratch = recompute ? UnsafeMutablePointer<Float>.allocate(capacity: lq * lk) : nil
                    defer { ds.deallocate(); scratch?.deallocate() }
                    for inst in range {
                        let bi = inst / heads, h = inst % heads
                        let qo = bi * lq * hd + h * d, ko = bi * lk * hd + h * d, vo = bi * lk * hdv + h * dv
                        let go = bi * lq * hdv + h * dv
                        let p: UnsafePointer<Float>
                        if let scratch {
                            let mh = mhaHeadMask(pm.value, strides, batch: bi, head: h)
                            for r0 in stride(from: 0, to: lq, by: rows) {
                                let r1 = Swift.min(lq, r0 + rows)
                                mhaProbabilities(scratch + r0 * lk, rows: r0..<r1, q: pq + qo, k: pk + ko, hd: hd, d: d, lk: lk, scale: s,
                                                 mask: mh, queryStride: strides?.query ?? 0)
                            }
                            p = UnsafePointer(scratch)
                        } else {
                            p = pp.value! + inst * lq * lk
                        }
                        sgemmOnThisThread(transA: true, transB: false, m: lk, n: dv, k: lq,
                                          a: p, lda: lk, b: pg + go, ldb: hdv, c: out.value.2 + vo, ldc: hdv)
                        sgemmOnThisThread(transA: false, transB: true, m: lq, n: lk, k: dv,
                                          a: pg + go, lda: hdv, b: pv + vo, ldb: hdv, c: ds, ldc: lk)
                        for r in 0..<lq { softmaxBackwardRow(ds + r * lk, p + r * lk, ds + r * lk, lk) }
                        sgemmOnThisThread(transA: false, transB: false, m: lq, n: d, k: lk, alpha: s,
                                          a: ds, lda: lk, b: pk + ko, ldb: hd, c: out.value.0 + qo, ldc: hd)
                        sgemmOnThisThread(transA: true, transB: false, m: lk, n: d, k: lq, alpha: s,
                                          a: ds, lda: lk, b: pq + qo, ldb: hd, c: out.value.1 + ko, ldc: hd)
                    }
                }
            } } }
            } } }
            } } }
        }
        return (Tensor(shape: q.shape, scalars: dq), Tensor(shape: k.shape, scalars: dk), Tensor(shape: v.shape, scalars: dvs))
    }
}
