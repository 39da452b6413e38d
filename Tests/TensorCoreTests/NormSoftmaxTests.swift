import Foundation
import Testing
import TestSupport
@testable import TensorCore

@Suite struct SoftmaxTests {
    @Test func softmaxAndLogSoftmaxMatchReference() {
        var rng = TestRNG(state: 61)
        let x = rng.tensor([3, 5, 7], -4, 4)
        let y = Kernels.softmax(x)
        expectClose(y, Reference.softmax(x), atol: 1e-4, rtol: 1e-4, "softmax")
        expectClose(Kernels.exp(Kernels.logSoftmax(x)), Reference.softmax(x), atol: 1e-4, rtol: 1e-4, "logSoftmax")
        let g = rng.tensor(x.shape)
        expectGradient(x, analytic: Kernels.softmaxBackward(g, output: y), "softmax") { dot(Kernels.softmax($0), g) }
        expectGradient(x, analytic: Kernels.logSoftmaxBackward(g, output: Kernels.logSoftmax(x)), "logSoftmax") {
            dot(Kernels.logSoftmax($0), g)
        }
    }
}

@Suite struct NormTests {
    @Test(arguments: [true, false])
    func groupNormMatchesReferenceAndGradients(_ affine: Bool) {
        var rng = TestRNG(state: 71)
        let x = rng.tensor([2, 6, 3, 5], -2, 3)
        let w = affine ? rng.tensor([6], 0.5, 1.5) : nil, b = affine ? rng.tensor([6]) : nil
        let r = Kernels.groupNorm(x, groups: 3, weight: w, bias: b, eps: 1e-5)
        expectClose(r.output, Reference.groupNorm(x, groups: 3, weight: w, bias: b, eps: 1e-5), atol: 1e-4, rtol: 1e-4, "groupNorm")
        #expect(r.mean.shape == [2, 3] && r.rstd.shape == [2, 3])
        let g = rng.tensor(x.shape)
        let grads = Kernels.groupNormBackward(g, input: x, mean: r.mean, rstd: r.rstd, groups: 3, weight: w, hasBias: affine)
        expectGradient(x, analytic: grads.input, "dx") { dot(Kernels.groupNorm($0, groups: 3, weight: w, bias: b).output, g) }
        if let w, let b {
            expectGradient(w, analytic: grads.weight!, "dw") { dot(Kernels.groupNorm(x, groups: 3, weight: $0, bias: b).output, g) }
            expectGradient(b, analytic: grads.bias!, "db") { dot(Kernels.groupNorm(x, groups: 3, weight: w, bias: $0).output, g) }
        } else {
            #expect(grads.weight == nil && grads.bias == nil)
        }
    }

    @Test func layerNormMatchesReferenceAndGradients() {
        var rng = TestRNG(state: 72)
        let x = rng.tensor([3, 5, 7], -2, 3), w = rng.tensor([7], 0.5, 1.5), b = rng.tensor([7])
        let r = Kernels.layerNorm(x, weight: w, bias: b, eps: 1e-6)
        expectClose(r.output, Reference.layerNorm(x, weight: w, bias: b, eps: 1e-6), atol: 1e-4, rtol: 1e-4, "layerNorm")
        let g = rng.tensor(x.shape)
        let grads = Kernels.layerNormBackward(g, input: x, mean: r.mean, rstd: r.rstd, weight: w, hasBias: true)
        expectGradient(x, analytic: grads.input, "dx") { dot(Kernels.layerNorm($0, weight: w, bias: b, eps: 1e-6).output, g) }
        expectGradient(w, analytic: grads.weight!, "dw") { dot(Kernels.layerNorm(x, weight: $0, bias: b, eps: 1e-6).output, g) }
        expectGradient(b, analytic: grads.bias!, "db") { dot(Kernels.layerNorm(x, weight: w, bias: $0, eps: 1e-6).output, g) }
    }
}

@Suite struct AttentionTests {
    @Test(arguments: [0, 1, 2])
    func attentionMatchesReferenceAndGradients(_ maskKind: Int) {
        var rng = TestRNG(state: 81)
        let q = rng.tensor([2, 3, 5, 4]), k = rng.tensor([2, 3, 7, 4]), v = rng.tensor([2, 3, 7, 6])
        let mask: Tensor? = maskKind == 0 ? nil : maskKind == 1 ? rng.tensor([5, 7], -3, 0) : rng.tensor([2, 1, 5, 7], -3, 0)
        let r = Kernels.attention(q: q, k: k, v: v, mask: mask)
        expectClose(r.output, Reference.attention(q, k, v, mask: mask, scale: 0.5), atol: 1e-4, rtol: 1e-4, "attention")
        let g = rng.tensor(r.output.shape)
        let d = Kernels.attentionBackward(g, q: q, k: k, v: v, probs: r.probs)
        expectGradient(q, analytic: d.q, "dq") { dot(Kernels.attention(q: $0, k: k, v: v, mask: mask).output, g) }
        expectGradient(k, analytic: d.k, "dk") { dot(Kernels.attention(q: q, k: $0, v: v, mask: mask).output, g) }
        expectGradient(v, analytic: d.v, "dv") { dot(Kernels.attention(q: q, k: k, v: $0, mask: mask).output, g) }
    }
}

@Suite struct LossTests {
    @Test func embeddingLookupAndScatterAdd() {
        var rng = TestRNG(state: 91)
        let table = rng.tensor([6, 4])
        let idx: [Int32] = [5, 0, 5, 2]
        let e = Kernels.embedding(idx, table: table)
        for (i, t) in idx.enumerated() { for j in 0..<4 { #expect(e[[i, j]] == table[[Int(t), j]]) } }
        let g = rng.tensor([4, 4])
        let dt = Kernels.embeddingBackward(g, indices: idx, vocabularySize: 6)
        expectGradient(table, analytic: dt, "embedding") { dot(Kernels.embedding(idx, table: $0), g) }
        #expect(dt[[5, 1]] == g[[0, 1]] + g[[2, 1]])
    }

    @Test func mseAndCrossEntropyValuesAndGradients() {
        var rng = TestRNG(state: 92)
        let a = rng.tensor([3, 5]), b = rng.tensor([3, 5])
        var ref = 0.0
        for i in 0..<15 { ref += Double(a.scalars[i] - b.scalars[i]) * Double(a.scalars[i] - b.scalars[i]) }
        #expect(abs(Double(Kernels.mseLoss(a, b).scalars[0]) - ref / 15) < 1e-6)
        expectGradient(a, analytic: Kernels.mseLossBackward(a, b), "mse") { Double(Kernels.mseLoss($0, b).scalars[0]) }
        let logits = rng.tensor([4, 6], -3, 3), t: [Int32] = [0, 5, 2, 2]
        let p = Reference.softmax(logits)
        let ce = t.enumerated().map { -Foundation.log(Double(p[[$0.offset, Int($0.element)]])) }.reduce(0, +) / 4
        #expect(abs(Double(Kernels.crossEntropy(logits: logits, targets: t).scalars[0]) - ce) < 1e-5)
        expectGradient(logits, analytic: Kernels.crossEntropyBackward(logits: logits, targets: t), "ce") {
            Double(Kernels.crossEntropy(logits: $0, targets: t).scalars[0])
        }
    }
}
