import Autograd
import Foundation
import Models
import NN
import Random
import Testing
import TensorCore
import TestSupport
@testable import Training

@Suite struct ForegroundAuxiliaryTests {
    /// 4x4 image, patch 2: each cell's target is the mean coverage of its 2x2 pixels, row-major cells.
    @Test func cellCoverageAveragesEachPatch() {
        let cov: [Float] = [1, 1, 0, 0,
                            1, 0, 0, 0,
                            0, 0, 0.5, 0.5,
                            0, 0, 0.5, 1]
        let t = ForegroundAuxiliary.cellCoverage(cov + cov.map { 1 - $0 }, batch: 2, size: 4, patch: 2)
        #expect(t.shape == [2, 4, 1])
        #expect(t.scalars == [0.75, 0, 0, 0.625, 0.25, 1, 1, 0.375])
    }

    @Test func lossIsTheMeanSquaredSigmoidErrorAndHasExactGradients() throws {
        let vit = try ViT(config: ViTConfig(imageSize: 8, patchSize: 4, width: 8, depth: 1, heads: 2, mlpDim: 16), key: RNGKey(seed: 1))
        let head = Linear(8, 1, key: RNGKey(seed: 2))
        var rng = TestRNG(seed: 3)
        let x = rng.tensor([2, 3, 8, 8]), target = rng.tensor([2, 4, 1], 0, 1)
        let out = withNoGrad { vit.forward(Variable(x)) }
        let loss = withNoGrad { ForegroundAuxiliary.loss(out, head: head, target: target) }.value.scalars[0]
        let f = out.final.value, w = head.weight.value.scalars, bias = head.bias!.value.scalars[0]
        var manual: Double = 0
        for b in 0..<2 {
            for i in 0..<4 {
                var z = Double(bias)
                for d in 0..<8 { z += Double(f.scalars[(b * 5 + 1 + i) * 8 + d]) * Double(w[d]) }
                let e = 1 / (1 + exp(-z)) - Double(target.scalars[b * 4 + i])
                manual += e * e / 8
            }
        }
        #expect(abs(Double(loss) - manual) < 1e-6)
        let n = moduleGradCheck(head, inputs: [x], seed: 4) { xs in
            ForegroundAuxiliary.loss(vit.forward(xs[0]), head: head, target: target).reshaped([1])
        }
        #expect(n == head.namedParameters().count + 1)
    }

    /// The head trains with the ViT (its keys in `trainable`, prefixed) but never enters the ViT's weights.
    @Test func theTaskTrainsTheHeadButSavesOnlyTimmKeys() throws {
        let task = ViTClassificationTask(vit: try ViT(config: TinyModels.vit, key: RNGKey(seed: 1)), data: TinyModels.data, seed: 5,
                                         batchSize: 4, foregroundWeight: 0.5)
        let names = task.trainable.map(\.0)
        #expect(names.suffix(2) == ["fg_head.weight", "fg_head.bias"])
        #expect(!task.vit.stateDict().tensors.keys.contains { $0.hasPrefix("fg_head") })
        let plain = try TinyModels.vitTask(seed: 1)
        #expect(plain.foregroundHead == nil && plain.trainable.count == names.count - 2)
        let l = try task.loss(step: 0), lp = try plain.loss(step: 0)
        #expect(l.value.scalars[0] > lp.value.scalars[0])               // same weights and batch + a positive auxiliary term
        l.backward()
        #expect(task.foregroundHead!.weight.grad != nil)
    }
}
