import Foundation
import Testing
import Random
import TensorCore
import Autograd
import NN
import TestSupport

/// Shapes, initialisation, keys and a gradient check through each layer.
@Suite struct LayerTests {
    var rng = TestRNG(seed: 21)
    let key = RNGKey(seed: 1234)

    @Test mutating func linear() {
        let l = Linear(6, 4, key: key)
        #expect(l.namedParameters().map(\.0) == ["weight", "bias"])
        #expect(l.weight.shape == [4, 6] && l.bias?.shape == [4])
        let bound = 1 / Float(6).squareRoot()
        #expect(l.weight.value.scalars.allSatisfy { abs($0) <= bound } && l.bias!.value.scalars.allSatisfy { abs($0) <= bound })
        // Not degenerate: the values spread over most of the range.
        #expect((l.weight.value.scalars.max()! - l.weight.value.scalars.min()!) > bound)
        #expect(Linear(6, 4, key: key).weight.value == l.weight.value)             // same key, same init
        #expect(Linear(6, 4, key: RNGKey(seed: 1235)).weight.value != l.weight.value)
        #expect(l(Variable(rng.tensor([2, 3, 6]))).shape == [2, 3, 4])
        moduleGradCheck(l, inputs: [rng.tensor([2, 3, 6])]) { l($0[0]) }
        let noBias = Linear(3, 2, bias: false, key: key)
        #expect(noBias.namedParameters().map(\.0) == ["weight"])
    }

    @Test mutating func conv2d() {
        let c = Conv2d(3, 5, kernelSize: 3, stride: 2, padding: 1, key: key)
        #expect(c.weight.shape == [5, 3, 3, 3] && c.bias?.shape == [5])
        let bound = 1 / Float(27).squareRoot()
        #expect(c.weight.value.scalars.allSatisfy { abs($0) <= bound })
        #expect(c(Variable(rng.tensor([2, 3, 7, 6]))).shape == [2, 5, 4, 3])
        moduleGradCheck(c, inputs: [rng.tensor([2, 3, 5, 5])]) { c($0[0]) }
    }

    @Test mutating func groupNormAndLayerNorm() {
        let g = GroupNorm(groups: 2, channels: 4)
        #expect(g.weight?.value.scalars == [1, 1, 1, 1] && g.bias?.value.scalars == [0, 0, 0, 0])
        g.weight!.value = rng.tensor([4], 0.5, 1.5)
        g.bias!.value = rng.tensor([4])
        moduleGradCheck(g, inputs: [rng.tensor([2, 4, 3, 3])]) { g($0[0]) }
        let l = LayerNorm(5, eps: 1e-6)
        l.weight!.value = rng.tensor([5], 0.5, 1.5)
        moduleGradCheck(l, inputs: [rng.tensor([3, 5])]) { l($0[0]) }
        // Normalised output: zero mean, unit (biased) variance per row before the affine map.
        let plain = LayerNorm(8, affine: false)
        #expect(plain.namedParameters().isEmpty)
        let y = plain(Variable(rng.tensor([1, 8], -3, 3))).value.scalars
        #expect(abs(y.reduce(0, +)) < 1e-4 && abs(y.map { $0 * $0 }.reduce(0, +) / 8 - 1) < 1e-3)
    }

    @Test mutating func embedding() {
        let e = Embedding(7, 3, key: key)
        #expect(e.weight.shape == [7, 3])
        let y = e([6, 0, 6, 2], shape: [2, 2])
        #expect(y.shape == [2, 2, 3])
        #expect(Array(y.value.scalars[0..<3]) == Array(e.weight.value.scalars[18..<21]))
        moduleGradCheck(e, inputs: []) { _ in e([1, 4, 4], shape: [3]) }
    }

    @Test mutating func selfAndCrossAttention() {
        let a = Attention(queryDim: 8, heads: 2, headDim: 3, key: key)
        #expect(a.namedParameters().map(\.0) == ["to_q.weight", "to_k.weight", "to_v.weight", "to_out.0.weight", "to_out.0.bias"])
        #expect(a.toQ.weight.shape == [6, 8] && a.toOut.weight.shape == [8, 6])
        #expect(a(Variable(rng.tensor([2, 5, 8]))).shape == [2, 5, 8])
        moduleGradCheck(a, inputs: [rng.tensor([2, 4, 8])]) { a($0[0]) }

        let cross = Attention(queryDim: 8, contextDim: 5, heads: 2, headDim: 4, key: key)
        #expect(cross.toK.weight.shape == [8, 5] && cross.toV.weight.shape == [8, 5])
        var mask = Tensor(zeros: [3, 6])
        for i in 0..<3 { mask[[i, 5 - i]] = -1e9 }
        moduleGradCheck(cross, inputs: [rng.tensor([2, 3, 8]), rng.tensor([2, 6, 5])]) { cross($0[0], context: $0[1], mask: mask) }
    }

    @Test func attentionHeadsAreIndependentAttentions() {
        // With 1 head and identity projections, the module is plain softmax(x x^T / sqrt(d)) x.
        let a = Attention(queryDim: 2, heads: 1, headDim: 2, key: key)
        let eye = Tensor(shape: [2, 2], scalars: [1, 0, 0, 1])
        for l in [a.toQ, a.toK, a.toV, a.toOut] { l.weight.value = eye }
        a.toOut.bias!.value = Tensor(zeros: [2])
        let x = Tensor(shape: [1, 2, 2], scalars: [1, 0, 0, 1])
        let s = Float(1 / 2.0.squareRoot())
        let p = 1 / (1 + Float(exp(-Double(s))))      // softmax([s, 0])[0]
        let y = a(Variable(x)).value.scalars
        let expected: [Float] = [p, 1 - p, 1 - p, p]
        #expect(zip(y, expected).allSatisfy { abs($0 - $1) < 1e-6 }, "got \(y), want \(expected)")
    }

    @Test mutating func dropout() {
        let d = Dropout(0.25, key: key)
        let x = Variable(Tensor(repeating: 1, shape: [4000]), requiresGrad: true)
        #expect(d(x) === x)                                   // eval mode: identity
        d.train()
        let y1 = d(x), y2 = d(x)
        let zeros = y1.value.scalars.filter { $0 == 0 }.count
        #expect(abs(Double(zeros) / 4000 - 0.25) < 0.03, "dropped \(zeros) of 4000")
        #expect(y1.value.scalars.allSatisfy { $0 == 0 || abs($0 - 1 / 0.75) < 1e-6 })
        #expect(y1.value != y2.value)                         // fresh mask per call
        let again = Dropout(0.25, key: key)
        again.train()
        #expect(again(x).value == y1.value)                   // seeded: same key, same masks
        y1.sum().backward()
        #expect(x.grad == y1.value)                           // gradient = mask / keep
        d.train(false)
        #expect(d(x) === x)
    }

    @Test func moduleListKeysAndFreezing() {
        let list = ModuleList([Linear(2, 2, key: key), Linear(2, 3, bias: false, key: key.fold(in: 1))])
        #expect(list.namedParameters().map(\.0) == ["0.weight", "0.bias", "1.weight"])
        list[0].setRequiresGrad(false)
        #expect(list.trainableParameters().map(\.0) == ["1.weight"])
        #expect(list.parameterCount == 4 + 2 + 6)
    }
}
