import Foundation
import Testing
import TestSupport
@testable import TensorCore

/// The composed attention backward and the fused multi-head one against the naive
/// `Reference.attentionBackward` (ReferenceAttentionBackward.swift), element-wise:
/// `|fast - reference| <= atol + rtol |reference|`. Tolerance for dq, dk, dv: atol 1e-6, rtol 1e-5.
@Suite struct ReferenceAttentionBackwardTests {
    /// Masks: none, [Lq, Lk], [B, 1, Lq, Lk], and a banded [Lq, Lk] with -inf (keys beyond i + 2
    /// hidden: probabilities exactly zero). Odd lengths, 3 heads, Dv != D; the last case has its own scale.
    @Test(arguments: [(5, 7, 4, 6, 0, Float?.none), (5, 7, 4, 6, 1, nil), (5, 7, 4, 6, 2, nil),
                      (9, 13, 3, 5, 3, Float(0.37))])
    func attention(_ lq: Int, _ lk: Int, _ d: Int, _ dv: Int, _ maskKind: Int, _ scale: Float?) {
        var rng = TestRNG(state: 221)
        let q = rng.tensor([2, 3, lq, d], -2, 2), k = rng.tensor([2, 3, lk, d], -2, 2), v = rng.tensor([2, 3, lk, dv])
        var mask: Tensor? = [nil, rng.tensor([lq, lk], -3, 0), rng.tensor([2, 1, lq, lk], -3, 0)][Swift.min(maskKind, 2)]
        if maskKind == 3 {
            mask = Tensor(zeros: [lq, lk])
            for i in 0..<lq { for j in 0..<lk where j > i + 2 { mask![[i, j]] = -.infinity } }
        }
        let r = Kernels.attention(q: q, k: k, v: v, mask: mask, scale: scale)
        let g = rng.tensor(r.output.shape)
        let fast = Kernels.attentionBackward(g, q: q, k: k, v: v, probs: r.probs, scale: scale)
        let s = scale ?? 1 / Float(d).squareRoot()
        let ref = Reference.attentionBackward(g, q, k, v, mask: mask, scale: Double(s))
        expectClose(fast.q, ref.dq, atol: 1e-6, rtol: 1e-5, "dq")
        expectClose(fast.k, ref.dk, atol: 1e-6, rtol: 1e-5, "dk")
        expectClose(fast.v, ref.dv, atol: 1e-6, rtol: 1e-5, "dv")
    }

    /// (batch, Lq, Lk, heads, D, Dv, scale): Lk = 13 and 21 for the 8-wide row loops' remainders,
    /// a single query and key, and 2 heads of odd width with their own scale.
    @Test(arguments: [(2, 5, 13, 3, 4, 2, Float?.none), (2, 9, 21, 3, 4, 2, nil), (2, 1, 1, 3, 4, 2, nil),
                      (3, 7, 6, 2, 5, 3, Float(0.37))])
    func multiHeadAttention(_ b: Int, _ lq: Int, _ lk: Int, _ heads: Int, _ d: Int, _ dv: Int, _ scale: Float?) {
        var rng = TestRNG(state: 222)
        let q = rng.tensor([b, lq, heads * d], -2, 2), k = rng.tensor([b, lk, heads * d], -2, 2)
        let v = rng.tensor([b, lk, heads * dv])
        let r = Kernels.multiHeadAttention(q: q, k: k, v: v, heads: heads, scale: scale)
        let g = rng.tensor(r.output.shape)
        let fast = Kernels.multiHeadAttentionBackward(g, q: q, k: k, v: v, probs: r.probs!, heads: heads, scale: scale)
        // [B, L, H X] <-> [B, H, L, X] by the reference permute.
        func split(_ t: Tensor) -> Tensor {
            Reference.permute(t.reshaped([t.shape[0], t.shape[1], heads, t.shape[2] / heads]), [0, 2, 1, 3])
        }
        func merge(_ t: Tensor) -> Tensor {
            Reference.permute(t, [0, 2, 1, 3]).reshaped([t.shape[0], t.shape[2], t.shape[1] * t.shape[3]])
        }
        let s = scale ?? 1 / Float(d).squareRoot()
        let ref = Reference.attentionBackward(split(g), split(q), split(k), split(v), mask: nil, scale: Double(s))
        expectClose(fast.q, merge(ref.dq), atol: 1e-6, rtol: 1e-5, "dq")
        expectClose(fast.k, merge(ref.dk), atol: 1e-6, rtol: 1e-5, "dk")
        expectClose(fast.v, merge(ref.dv), atol: 1e-6, rtol: 1e-5, "dv")
    }
}
