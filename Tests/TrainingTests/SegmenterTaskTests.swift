import Autograd
import Foundation
import Models
import NN
import Random
import Testing
import TensorCore
import World
@testable import Training

@Suite struct SegmenterTaskTests {
    func task(seed: UInt64 = 7, augmentation: GeneratedLookAugmentation = GeneratedLookAugmentation()) throws -> SegmenterTask {
        SegmenterTask(segmenter: try Segmenter(config: .xs, key: RNGKey(seed: 1)), data: TinyModels.data, seed: seed, batchSize: 4,
                      augmentation: augmentation)
    }

    @Test func batchesArePureFunctionsOfSeedAndStepWithTheRenderersMasks() throws {
        let t = try task()
        let a = try t.batch(step: 3), b = try t.batch(step: 3), c = try t.batch(step: 4)
        #expect(a.images.scalars == b.images.scalars && a.coverage == b.coverage)
        #expect(a.images.scalars != c.images.scalars)
        // The target is the mask of the (rescaled) render: a clean run of the same plan gives the same coverage.
        let clean = try SegmenterTask.renders(seed: 7, step: 3, size: 4, config: TinyModels.data, scaleRange: t.scaleRange)
        #expect(clean.coverage == a.coverage && a.coverage.contains { $0 > 0.5 } && a.coverage.contains { $0 == 0 })
        #expect(a.images.scalars.allSatisfy { $0 >= -1 && $0 <= 1 })
        // Object scales come from the configured range, not the world's 0.30-0.40.
        var plan = WorldData.plan(seed: 7, step: 3, size: 4, config: TinyModels.data)
        #expect(plan.requests.allSatisfy { $0.pose.scale >= 0.3 && $0.pose.scale <= 0.4 })
        plan.requests[0].pose.scale = 0.2
        let world = try WorldData.render(plan, config: TinyModels.data)
        #expect(world.coverage.reduce(0, +) != clean.coverage.reduce(0, +))
    }

    @Test func theAugmentationKeepsShapeAndRangeIsKeyedAndCanBeOff() throws {
        let b = try WorldData.batch(seed: 2, step: 0, size: 6, config: TinyModels.data)
        let aug = GeneratedLookAugmentation(strength: 1, fraction: 1)
        let x = aug.apply(b.images, key: RNGKey(seed: 9)), y = aug.apply(b.images, key: RNGKey(seed: 9))
        #expect(x.shape == b.images.shape && x.scalars == y.scalars && x.scalars != b.images.scalars)
        #expect(x.scalars.allSatisfy { $0 >= -1 && $0 <= 1 })
        #expect(aug.apply(b.images, key: RNGKey(seed: 10)).scalars != x.scalars)
        #expect(GeneratedLookAugmentation.off.apply(b.images, key: RNGKey(seed: 9)).scalars == b.images.scalars)
        // Each image is augmented on its own: a share `fraction` of them; the rest stay as rendered.
        let half = GeneratedLookAugmentation(strength: 1, fraction: 0.5).apply(b.images, key: RNGKey(seed: 11))
        let per = b.images.count / 6
        let changed = (0..<6).filter { i in half.scalars[(i * per)..<((i + 1) * per)] != b.images.scalars[(i * per)..<((i + 1) * per)] }
        #expect(!changed.isEmpty && changed.count < 6, "\(changed)")
        // The blur is the [1, 2, 1] / 4 binomial with replicated edges.
        #expect(GeneratedLookAugmentation.binomialBlur([0, 4, 0], height: 1, width: 3) == [1, 2, 1])
        #expect(GeneratedLookAugmentation.binomialBlur([4, 4, 4, 4], height: 2, width: 2) == [4, 4, 4, 4])
    }

    @Test func theLossIsBCEPlusWeightedDice() {
        // One image of 2 pixels: z = (0, 0), y = (1, 0): BCE = log 2 each; p = 0.5: dice = (2 * 0.5 + 1) / (1 + 1 + 1) = 2/3.
        let z = Variable(Tensor(shape: [1, 1, 1, 2], scalars: [0, 0]))
        let l = SegmenterTask.loss(logits: z, coverage: [1, 0], diceWeight: 0.5).value.scalars[0]
        #expect(abs(l - Float(log(2.0) + 0.5 * (1 - 2.0 / 3))) < 1e-6, "\(l)")
        #expect(abs(SegmenterTask.loss(logits: z, coverage: [1, 0], diceWeight: 0).value.scalars[0] - Float(log(2.0))) < 1e-6)
        // Confident right logits cost (almost) nothing; confident wrong ones a lot.
        let right = SegmenterTask.loss(logits: Variable(Tensor(shape: [1, 1, 1, 2], scalars: [20, -20])), coverage: [1, 0], diceWeight: 0.5)
        let wrong = SegmenterTask.loss(logits: Variable(Tensor(shape: [1, 1, 1, 2], scalars: [-20, 20])), coverage: [1, 0], diceWeight: 0.5)
        #expect(right.value.scalars[0] < 1e-6 && wrong.value.scalars[0] > 10)
    }

    @Test func trainingStepsLowerTheLossOnAFixedSegmenterBatch() throws {
        let t = try task(augmentation: .off)
        let b = try t.batch(step: 0)
        func loss() -> Float { SegmenterTask.loss(logits: withNoGrad { t.segmenter(Variable(b.images)) }, coverage: b.coverage, diceWeight: 0.5).value.scalars[0] }
        let before = loss()
        let trainer = Trainer(task: FixedSegmenterBatch(t, step: 0), settings: TrainSettings(steps: 8, batchSize: 4, learningRate: 1e-2, seed: 7))
        for _ in 0..<8 { try trainer.trainStep() }
        #expect(loss() < before, "\(before) -> \(loss())")
    }
}

/// The task's batch `step` at every step (to watch one batch's loss fall).
private final class FixedSegmenterBatch: PretrainTask {
    let task: SegmenterTask, step: Int
    init(_ task: SegmenterTask, step: Int) { self.task = task; self.step = step }
    var trainable: [(String, Parameter)] { task.trainable }
    func loss(step _: Int) throws -> Variable { try task.loss(step: step) }
}
