import Testing
import TensorCore
@testable import Autograd
import TestSupport

/// Finite-difference checks of the network primitives.
@Suite struct NNOpsGradTests {
    var rng = TestRNG(seed: 13)

    @Test mutating func matmulPlainBatchedBroadcast() {
        gradCheck([rng.tensor([3, 4]), rng.tensor([4, 2])]) { $0[0].matmul($0[1]) }
        gradCheck([rng.tensor([2, 3, 4]), rng.tensor([2, 4, 5])]) { $0[0].matmul($0[1]) }
        gradCheck([rng.tensor([2, 3, 4]), rng.tensor([4, 5])]) { $0[0].matmul($0[1]) }
        gradCheck([rng.tensor([3, 4]), rng.tensor([2, 4])]) { $0[0].matmul($0[1], transposeB: true) }
        gradCheck([rng.tensor([2, 3, 4]), rng.tensor([2, 5, 4])]) { $0[0].matmul($0[1], transposeB: true) }
        gradCheck([rng.tensor([2, 3, 4]), rng.tensor([5, 4])]) { $0[0].matmul($0[1], transposeB: true) }
        let a = Variable(Tensor(shape: [1, 2], scalars: [1, 2])), b = Variable(Tensor(shape: [2, 2], scalars: [1, 2, 3, 4]))
        #expect(a.matmul(b, transposeB: true).value.scalars == [5, 11])
    }
    @Test mutating func linearLayer() {
        gradCheck([rng.tensor([2, 3, 4]), rng.tensor([5, 4]), rng.tensor([5])]) { linear($0[0], weight: $0[1], bias: $0[2]) }
    }
    @Test mutating func conv2dStridePadding() {
        gradCheck([rng.tensor([2, 3, 5, 7]), rng.tensor([4, 3, 3, 3]), rng.tensor([4])]) {
            conv2d($0[0], weight: $0[1], bias: $0[2], stride: 2, padding: 1)
        }
        gradCheck([rng.tensor([1, 2, 4, 4]), rng.tensor([3, 2, 1, 1])]) { conv2d($0[0], weight: $0[1], bias: nil) }
    }
    /// 3x3, stride 1, padding 1: the Winograd path forward, for dx (flipped kernel) and for dW;
    /// odd sizes exercise the cut-off last tile row and column.
    @Test mutating func conv2dWinogradPath() {
        gradCheck([rng.tensor([5, 3, 5, 17]), rng.tensor([4, 3, 3, 3]), rng.tensor([4])]) {
            conv2d($0[0], weight: $0[1], bias: $0[2], stride: 1, padding: 1)
        }
    }
    @Test mutating func upsampleAvgPoolBilinear() {
        gradCheck([rng.tensor([2, 2, 3, 3])]) { $0[0].upsampleNearest(factor: 2) }
        gradCheck([rng.tensor([2, 2, 4, 6])]) { $0[0].avgPool(2) }
        gradCheck([rng.tensor([1, 2, 3, 5])]) { $0[0].resizeBilinear(height: 7, width: 4) }
    }
    @Test mutating func groupNormAffine() {
        gradCheck([rng.tensor([2, 6, 3, 3]), rng.tensor([6], 0.5, 1.5), rng.tensor([6])]) {
            groupNorm($0[0], groups: 3, weight: $0[1], bias: $0[2])
        }
        gradCheck([rng.tensor([2, 4, 5])]) { groupNorm($0[0], groups: 2, weight: nil, bias: nil) }
    }
    @Test mutating func groupNormSiLUFused() {
        gradCheck([rng.tensor([2, 6, 3, 3]), rng.tensor([6], 0.5, 1.5), rng.tensor([6])]) {
            groupNormSiLU($0[0], groups: 3, weight: $0[1], bias: $0[2])
        }
        gradCheck([rng.tensor([2, 4, 5])]) { groupNormSiLU($0[0], groups: 2, weight: nil, bias: nil) }
    }
    @Test mutating func layerNormAffine() {
        gradCheck([rng.tensor([2, 3, 6]), rng.tensor([6], 0.5, 1.5), rng.tensor([6])]) {
            layerNorm($0[0], weight: $0[1], bias: $0[2], eps: 1e-6)
        }
    }
    @Test mutating func softmaxAndLogSoftmax() {
        gradCheck([rng.tensor([3, 5], -2, 2)]) { $0[0].softmax() }
        gradCheck([rng.tensor([3, 5], -2, 2)]) { $0[0].logSoftmax() }
    }
    @Test mutating func attentionWithAndWithoutMask() {
        let q = rng.tensor([2, 2, 3, 4]), k = rng.tensor([2, 2, 5, 4]), v = rng.tensor([2, 2, 5, 3])
        gradCheck([q, k, v]) { scaledDotProductAttention($0[0], $0[1], $0[2]) }
        var causal = Tensor(zeros: [3, 5])
        for i in 0..<3 { for j in 0..<5 where j > i + 2 { causal[[i, j]] = -1e9 } }
        gradCheck([q, k, v]) { scaledDotProductAttention($0[0], $0[1], $0[2], mask: causal) }
        let perBatch = rng.tensor([2, 1, 3, 5], -1, 1)
        gradCheck([q, k, v]) { scaledDotProductAttention($0[0], $0[1], $0[2], mask: perBatch, scale: 0.3) }
    }
    @Test mutating func embeddingScatterAdds() {
        let idx: [Int32] = [1, 3, 1, 0, 3, 3]
        gradCheck([rng.tensor([5, 4])]) { embedding(idx, shape: [2, 3], table: $0[0]) }
        let t = Variable(rng.tensor([5, 4]), requiresGrad: true)
        embedding(idx, table: t).sum().backward()
        #expect(t.grad?.scalars[12..<16].allSatisfy { $0 == 3 } == true)   // row 3 used three times
        #expect(t.grad?.scalars[8..<12].allSatisfy { $0 == 0 } == true)    // row 2 unused
    }
    @Test mutating func losses() {
        gradCheck([rng.tensor([3, 4]), rng.tensor([3, 4])]) { mseLoss($0[0], $0[1]) }
        gradCheck([rng.tensor([4, 5], -2, 2)]) { crossEntropyLoss($0[0], targets: [0, 4, 2, 2]) }
        let l = crossEntropyLoss(Variable(Tensor(zeros: [2, 4])), targets: [1, 3])
        #expect(abs(l.value.scalars[0] - 1.3862944) < 1e-6)   // log 4
    }
}

/// The fused multi-head attention op: finite differences, and equality with the composed path.
@Suite struct MultiHeadAttentionGradTests {
    var rng = TestRNG(seed: 23)

    @Test mutating func gradientsAndComposedEquivalence() {
        let q = rng.tensor([2, 5, 6]), k = rng.tensor([2, 7, 6]), v = rng.tensor([2, 7, 4])
        gradCheck([q, k, v]) { multiHeadAttention($0[0], $0[1], $0[2], heads: 2) }
        gradCheck([q, k, v]) { multiHeadAttention($0[0], $0[1], $0[2], heads: 2, scale: 0.7) }
        func split(_ t: Variable) -> Variable {
            t.reshaped([t.shape[0], t.shape[1], 2, t.shape[2] / 2]).permuted([0, 2, 1, 3])
        }
        let vars = [q, k, v].map { Variable($0, requiresGrad: true) }
        let fused = multiHeadAttention(vars[0], vars[1], vars[2], heads: 2)
        let composed = scaledDotProductAttention(split(vars[0]), split(vars[1]), split(vars[2]))
            .permuted([0, 2, 1, 3]).reshaped([2, 5, 4])
        expectClose(fused.value, composed.value, atol: 1e-5, rtol: 1e-4)
    }

    /// Above `keptProbabilityLimit` ([B, H, Lq, Lk] = 1 x 2 x 64 x 65600 > 8M scores) the op keeps no probabilities and its
    /// backward pass makes them again: the same bits as the kernel's backward from kept probabilities, with a per-key mask.
    @Test mutating func largeAttentionRecomputesToTheSameBits() {
        let lq = 64, lk = 65_600
        #expect(2 * lq * lk > keptProbabilityLimit)
        let q = rng.tensor([1, lq, 8]), k = rng.tensor([1, lk, 8]), v = rng.tensor([1, lk, 4]), g = rng.tensor([1, lq, 4])
        let mask = Tensor(shape: [1, 1, 1, lk], scalars: (0..<lk).map { $0 % 3 == 0 ? -1e9 : 0.25 })
        let vars = [q, k, v].map { Variable($0, requiresGrad: true) }
        let y = multiHeadAttention(vars[0], vars[1], vars[2], heads: 2, mask: mask)
        (y * Variable(g)).sum().backward()
        let r = Kernels.multiHeadAttention(q: q, k: k, v: v, heads: 2, mask: mask)
        let kept = Kernels.multiHeadAttentionBackward(g, q: q, k: k, v: v, probs: r.probs!, heads: 2)
        #expect(y.value == r.output)
        #expect(vars[0].grad! == kept.q && vars[1].grad! == kept.k && vars[2].grad! == kept.v)
    }
}

@Suite struct GEGLUGradTests {
    var rng = TestRNG(seed: 29)

    @Test mutating func gegluGradientAndComposedEquivalence() {
        let x = rng.tensor([2, 3, 8], -2, 2)
        gradCheck([x]) { $0[0].geglu() }
        let v = Variable(x)
        let parts = v.chunked(2, axis: -1)
        #expect(v.geglu().value == (parts[0] * parts[1].gelu()).value)
    }
}

@Suite struct FusedLinearGradTests {
    var rng = TestRNG(seed: 31)

    @Test mutating func linearWithBiasGradientsAndComposedEquivalence() {
        gradCheck([rng.tensor([2, 3, 4]), rng.tensor([5, 4]), rng.tensor([5])]) { linear($0[0], weight: $0[1], bias: $0[2]) }
        gradCheck([rng.tensor([3, 4]), rng.tensor([2, 4]), rng.tensor([2])], checkInputs: [1, 2]) { linear($0[0], weight: $0[1], bias: $0[2]) }
        let x = Variable(rng.tensor([2, 3, 4])), w = Variable(rng.tensor([5, 4])), b = Variable(rng.tensor([5]))
        expectClose(linear(x, weight: w, bias: b).value, (x.matmul(w, transposeB: true) + b).value, atol: 1e-6, rtol: 1e-6)
    }
}
