import Foundation
import Testing
import TestSupport
@testable import TensorCore

/// The fused per-head kernel against the composed path: split heads (reshape + permute), the loop
/// reference `Reference.attention`, merge heads; gradients by finite differences; 1 vs 2 threads.
@Suite struct MultiHeadAttentionTests {
    /// [B, L, H*D] -> [B, H, L, D].
    static func split(_ t: Tensor, _ heads: Int) -> Tensor {
        let (b, l, c) = (t.shape[0], t.shape[1], t.shape[2])
        return Kernels.permute(t.reshaped([b, l, heads, c / heads]), [0, 2, 1, 3])
    }

    /// [B, H, L, D] -> [B, L, H*D].
    static func merge(_ t: Tensor) -> Tensor {
        let (b, h, l, d) = (t.shape[0], t.shape[1], t.shape[2], t.shape[3])
        return Kernels.permute(t, [0, 2, 1, 3]).reshaped([b, l, h * d])
    }

    // Lk = 13 and 21 exercise the 8-wide row loops' remainders; 3 heads, Dv != D.
    @Test(arguments: [(5, 13), (9, 21), (1, 1)])
    func matchesComposedReferenceAndGradients(_ lq: Int, _ lk: Int) {
        var rng = TestRNG(state: UInt64(101 + lq * 7 + lk))
        let heads = 3, d = 4, dv = 2
        let q = rng.tensor([2, lq, heads * d], -2, 2), k = rng.tensor([2, lk, heads * d], -2, 2)
        let v = rng.tensor([2, lk, heads * dv])
        let r = Kernels.multiHeadAttention(q: q, k: k, v: v, heads: heads)
        let ref = Reference.attention(Self.split(q, heads), Self.split(k, heads), Self.split(v, heads), mask: nil, scale: 0.5)
        expectClose(r.output, Self.merge(ref), atol: 1e-4, rtol: 1e-4, "output")
        expectClose(r.probs!, Kernels.softmax(Kernels.scale(Kernels.matmul(Self.split(q, heads), Self.split(k, heads), transposeB: true), 0.5)), atol: 1e-4, rtol: 1e-4, "probs")

        let g = rng.tensor(r.output.shape)
        let grads = Kernels.multiHeadAttentionBackward(g, q: q, k: k, v: v, probs: r.probs!, heads: heads)
        func loss(_ q: Tensor, _ k: Tensor, _ v: Tensor) -> Double {
            dot(Kernels.multiHeadAttention(q: q, k: k, v: v, heads: heads).output, g)
        }
        // One key: the softmax is 1 whatever q and k are, so their gradients are zero by construction.
        expectGradient(q, analytic: grads.q, informative: lk > 1, "dq") { loss($0, k, v) }
        expectGradient(k, analytic: grads.k, informative: lk > 1, "dk") { loss(q, $0, v) }
        expectGradient(v, analytic: grads.v, "dv") { loss(q, k, $0) }
    }

    /// The additive mask in every accepted shape ([Lq, Lk], [B, 1, Lq, Lk], [1, H, Lq, Lk], [B, H, Lq, Lk], and the
    /// per-key biases [B, 1, 1, Lk], [1, H, 1, Lk], [B, H, 1, Lk] broadcast over the queries; masked
    /// entries -1e9 as `ReferenceSetMask` writes them) against the composed reference with the same mask, with
    /// gradients by finite differences; a mask of zeros gives the unmasked bits.
    @Test(arguments: [[6, 11], [2, 1, 6, 11], [1, 3, 6, 11], [2, 3, 6, 11], [2, 1, 1, 11], [1, 3, 1, 11], [2, 3, 1, 11]])
    func aMaskMatchesTheComposedReference(_ maskShape: [Int]) {
        var rng = TestRNG(state: UInt64(211 + maskShape.count * 5 + maskShape[0]))
        let heads = 3, d = 4, dv = 2, lq = 6, lk = 11
        let q = rng.tensor([2, lq, heads * d], -2, 2), k = rng.tensor([2, lk, heads * d], -2, 2)
        let v = rng.tensor([2, lk, heads * dv])
        // Mostly small biases, some keys hidden, never a whole row (key 0 stays visible).
        let n = maskShape.reduce(1, *)
        let mask = Tensor(shape: maskShape, scalars: (0..<n).map { i in i % lk != 0 && i % 4 == 1 ? -1e9 : Float(i % 5) * 0.3 - 0.6 })
        let r = Kernels.multiHeadAttention(q: q, k: k, v: v, heads: heads, mask: mask)
        let ref = Reference.attention(Self.split(q, heads), Self.split(k, heads), Self.split(v, heads), mask: mask, scale: 0.5)
        expectClose(r.output, Self.merge(ref), atol: 1e-4, rtol: 1e-4, "output")
        let composed = Kernels.attention(q: Self.split(q, heads), k: Self.split(k, heads), v: Self.split(v, heads), mask: mask)
        expectClose(r.probs!, composed.probs, atol: 1e-5, rtol: 1e-4, "probs")

        let g = rng.tensor(r.output.shape)
        let grads = Kernels.multiHeadAttentionBackward(g, q: q, k: k, v: v, probs: r.probs!, heads: heads)
        func loss(_ q: Tensor, _ k: Tensor, _ v: Tensor) -> Double {
            dot(Kernels.multiHeadAttention(q: q, k: k, v: v, heads: heads, mask: mask).output, g)
        }
        expectGradient(q, analytic: grads.q, "dq") { loss($0, k, v) }
        expectGradient(k, analytic: grads.k, "dk") { loss(q, $0, v) }
        expectGradient(v, analytic: grads.v, "dv") { loss(q, k, $0) }

        let zeros = Kernels.multiHeadAttention(q: q, k: k, v: v, heads: heads, mask: Tensor(zeros: maskShape))
        let none = Kernels.multiHeadAttention(q: q, k: k, v: v, heads: heads)
        #expect(zeros.output == none.output && zeros.probs == none.probs)
        let masked = Threads.withCount(1) { Kernels.multiHeadAttention(q: q, k: k, v: v, heads: heads, mask: mask) }
        #expect(masked.output == r.output)
    }

    /// A per-key bias [B, 1, 1, Lk] gives the bits of the same bias written out for every query ([B, 1, Lq, Lk]), also
    /// when the queries run in several blocks (Lk = 4096: blocks of 16 rows) and without kept probabilities.
    @Test func aPerKeyBiasEqualsItsExpandedMaskBitForBit() {
        var rng = TestRNG(state: 83)
        let b = 2, lq = 40, lk = 4096, heads = 2
        let q = rng.tensor([b, lq, heads * 2], -2, 2), k = rng.tensor([b, lk, heads * 2], -2, 2), v = rng.tensor([b, lk, heads * 3])
        let bias = Tensor(shape: [b, 1, 1, lk], scalars: (0..<(b * lk)).map { i in i % 3 == 1 ? -1e9 : Float(i % 7) * 0.25 - 0.5 })
        let expanded = Tensor(shape: [b, 1, lq, lk], scalars: (0..<b).flatMap { bi in
            (0..<lq).flatMap { _ in bias.scalars[(bi * lk)..<((bi + 1) * lk)] }
        })
        #expect(Kernels.mhaQueryBlock(lk: lk, lq: lq) < lq)
        for keep in [true, false] {
            let perKey = Kernels.multiHeadAttention(q: q, k: k, v: v, heads: heads, mask: bias, keepProbabilities: keep)
            let full = Kernels.multiHeadAttention(q: q, k: k, v: v, heads: heads, mask: expanded, keepProbabilities: keep)
            #expect(perKey.output == full.output && perKey.probs == full.probs)
        }
    }

    /// Without kept probabilities (inference) the output is the same bits, masked or not, on one thread or two, and no
    /// probabilities come back; through Autograd, a forward with no gradient to record keeps none.
    @Test func theInferenceForwardKeepsNoProbabilitiesAndTheSameBits() {
        var rng = TestRNG(state: 57)
        let q = rng.tensor([3, 20, 12]), k = rng.tensor([3, 25, 12]), v = rng.tensor([3, 25, 6])
        let mask = Tensor(shape: [3, 1, 20, 25], scalars: (0..<1500).map { Float($0 % 7) * 0.2 - 0.5 })
        for m in [nil, mask] {
            let kept = Kernels.multiHeadAttention(q: q, k: k, v: v, heads: 3, scale: 0.4, mask: m)
            for threads in [1, 2] {
                let free = Threads.withCount(threads) {
                    Kernels.multiHeadAttention(q: q, k: k, v: v, heads: 3, scale: 0.4, mask: m, keepProbabilities: false)
                }
                #expect(free.output == kept.output && free.probs == nil)
            }
        }
        let empty = Kernels.multiHeadAttention(q: q, k: Tensor(zeros: [3, 0, 12]), v: Tensor(zeros: [3, 0, 6]), heads: 3, keepProbabilities: false)
        #expect(empty.output == Tensor(zeros: [3, 20, 6]) && empty.probs == nil)
    }

    /// Long rows run in query blocks (`mhaQueryBlock`: here 3 blocks of 109 rows and a remainder); masked, the output
    /// and the kept probabilities match the composed reference, and the inference forward gives the same bits.
    @Test func queryBlocksMatchTheComposedReference() {
        var rng = TestRNG(state: 77)
        let heads = 2, d = 4, dv = 3, lq = 330, lk = 600
        #expect(Kernels.mhaQueryBlock(lk: lk, lq: lq) == 109)
        let q = rng.tensor([1, lq, heads * d], -2, 2), k = rng.tensor([1, lk, heads * d], -2, 2)
        let v = rng.tensor([1, lk, heads * dv])
        let mask = Tensor(shape: [1, heads, lq, lk], scalars: (0..<(heads * lq * lk)).map { i in
            i % lk != 0 && i % 5 == 2 ? -1e9 : Float(i % 7) * 0.2 - 0.6 })
        let r = Kernels.multiHeadAttention(q: q, k: k, v: v, heads: heads, mask: mask)
        let ref = Reference.attention(Self.split(q, heads), Self.split(k, heads), Self.split(v, heads), mask: mask, scale: 0.5)
        expectClose(r.output, Self.merge(ref), atol: 1e-4, rtol: 1e-4, "output")
        let composed = Kernels.attention(q: Self.split(q, heads), k: Self.split(k, heads), v: Self.split(v, heads), mask: mask)
        expectClose(r.probs!, composed.probs, atol: 1e-5, rtol: 1e-4, "probs")
        let free = Kernels.multiHeadAttention(q: q, k: k, v: v, heads: heads, mask: mask, keepProbabilities: false)
        #expect(free.output == r.output)
    }

    /// The backward pass without kept probabilities (`probs: nil`, recomputed per head from q, k and the mask) gives the
    /// bits of the one with them: no mask, [Lq, Lk], [B, 1, Lq, Lk], a per-key bias [B, 1, 1, Lk] with masked keys, and
    /// a per-head mask; Lk = 4096 makes the forward's query blocks 16 rows, so Lq = 40 has three blocks, the last short;
    /// on 1 and 2 threads.
    @Test(arguments: [0, 1, 2, 3, 4])
    func recomputedProbabilitiesGiveTheKeptOnesGradients(maskKind: Int) {
        var rng = TestRNG(state: 141)
        let b = 2, heads = 2, d = 4, dv = 3, lq = 40, lk = 4096
        #expect(Kernels.mhaQueryBlock(lk: lk, lq: lq) == 16)
        let q = rng.tensor([b, lq, heads * d], -2, 2), k = rng.tensor([b, lk, heads * d], -2, 2), v = rng.tensor([b, lk, heads * dv])
        let g = rng.tensor([b, lq, heads * dv])
        let shapes: [[Int]?] = [nil, [lq, lk], [b, 1, lq, lk], [b, 1, 1, lk], [1, heads, lq, lk]]
        let mask = shapes[maskKind].map { shape in
            Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { i in i % 9 == 4 ? -1e9 : Float(i % 7) * 0.3 - 0.9 })
        }
        func run() -> [Tensor] {
            let r = Kernels.multiHeadAttention(q: q, k: k, v: v, heads: heads, scale: 0.4, mask: mask)
            let kept = Kernels.multiHeadAttentionBackward(g, q: q, k: k, v: v, probs: r.probs!, heads: heads, scale: 0.4)
            let made = Kernels.multiHeadAttentionBackward(g, q: q, k: k, v: v, probs: nil, mask: mask, heads: heads, scale: 0.4)
            #expect(made.q == kept.q && made.k == kept.k && made.v == kept.v)
            // A mask left out of the recomputation is a different gradient (the test can fail).
            if mask != nil {
                let wrong = Kernels.multiHeadAttentionBackward(g, q: q, k: k, v: v, probs: nil, mask: nil, heads: heads, scale: 0.4)
                #expect(wrong.q != kept.q)
            }
            return [made.q, made.k, made.v]
        }
        #expect(Threads.withCount(1) { run() } == Threads.withCount(2) { run() })
    }

    @Test func sameBitsForOneAndTwoThreads() {
        var rng = TestRNG(state: 131)
        let q = rng.tensor([3, 40, 16]), k = rng.tensor([3, 40, 16]), v = rng.tensor([3, 40, 16]), g = rng.tensor([3, 40, 16])
        func run() -> [Tensor] {
            let r = Kernels.multiHeadAttention(q: q, k: k, v: v, heads: 4, scale: 0.3)
            let d = Kernels.multiHeadAttentionBackward(g, q: q, k: k, v: v, probs: r.probs!, heads: 4, scale: 0.3)
            return [r.output, r.probs!, d.q, d.k, d.v]
        }
        let one = Threads.withCount(1) { run() }, two = Threads.withCount(2) { run() }
        #expect(one == two)
    }
}
