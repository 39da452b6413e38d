import Testing
import Random
import TensorCore
import Optim
import Autograd
import NN
import TestSupport

/// Optimizer glue: steps by PyTorch key, frozen parameters untouched, clipping.
@Suite struct TrainingTests {
    @Test func sgdStepsFitALinearMap() {
        var rng = TestRNG(seed: 31)
        let model = Linear(3, 2, key: RNGKey(seed: 5))
        let trueW = rng.tensor([2, 3])
        let x = Variable(rng.tensor([16, 3]))
        let target = withNoGrad { linear(x, weight: Variable(trueW), bias: nil) }
        var opt = SGD(learningRate: 0.3)
        var losses: [Float] = []
        for _ in 0..<60 {
            model.zeroGrad()
            let loss = mseLoss(model(x), target)
            loss.backward()
            model.step(&opt)
            losses.append(loss.value.scalars[0])
        }
        #expect(losses.last! < losses.first! * 0.01, "loss \(losses.first!) -> \(losses.last!)")
    }

    @Test func stepMatchesOptimizerOnFlatBuffersAndSkipsFrozen() {
        let model = ModuleList([Linear(2, 2, key: RNGKey(seed: 1)), Linear(2, 1, key: RNGKey(seed: 2))])
        model[1].setRequiresGrad(false)
        let x = Variable(Tensor(shape: [1, 2], scalars: [0.5, -1]))
        mseLoss(model[1](model[0](x)), Variable(Tensor(zeros: [1, 1]))).backward()
        #expect(model[1].weight.grad == nil)
        let frozen = model[1].weight.value
        var expected = Dictionary(uniqueKeysWithValues: model.namedParameters().map { ($0.0, $0.1.value.scalars) })
        let grads = Dictionary(uniqueKeysWithValues: model.trainableParameters().map { ($0.0, $0.1.grad!.scalars) })
        var reference = AdamW(learningRate: 0.1, weightDecay: 0.01)
        reference.step(&expected, gradients: grads)
        var opt = AdamW(learningRate: 0.1, weightDecay: 0.01)
        model.step(&opt)
        for (key, p) in model.namedParameters() { #expect(p.value.scalars == expected[key]!, "\(key)") }
        #expect(model[1].weight.value == frozen)
        #expect(Set(opt.state.keys) == ["0.weight", "0.bias"])
    }

    @Test func moduleValueAndGradIsKeyedByName() {
        let l = Linear(2, 1, key: RNGKey(seed: 4))
        l.bias!.requiresGrad = false
        let x = Variable(Tensor(shape: [1, 2], scalars: [2, -3]))
        let (v, grads) = l.valueAndGrad { l(x).sum() }
        #expect(abs(v - (l.weight.value.scalars[0] * 2 - l.weight.value.scalars[1] * 3 + l.bias!.value.scalars[0])) < 1e-6)
        #expect(Set(grads.keys) == ["weight"])
        #expect(grads["weight"]?.scalars == [2, -3])
    }

    @Test func clipGradNormScalesToMaxNorm() {
        let l = Linear(2, 2, key: RNGKey(seed: 3))
        l.weight.grad = Tensor(shape: [2, 2], scalars: [3, 0, 0, 0])
        l.bias!.grad = Tensor(shape: [2], scalars: [0, 4])
        let norm = l.clipGradNorm(maxNorm: 1)
        #expect(abs(norm - 5) < 1e-6)
        #expect(abs(l.weight.grad!.scalars[0] - 0.6) < 1e-5 && abs(l.bias!.grad!.scalars[1] - 0.8) < 1e-5)
    }
}
