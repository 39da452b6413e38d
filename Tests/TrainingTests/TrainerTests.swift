import Autograd
import Checkpoint
import Foundation
import Models
import NN
import Optim
import Random
import Testing
import TensorCore
@testable import Training

/// Tiny shapes: 16x16 world renders, a 2-block ViT, a 2-level U-Net.
enum TinyModels {
    static let data = WorldDataConfig(resolution: 16, split: .train, subjectsPerCategory: 2)
    static let vit = ViTConfig(imageSize: 16, patchSize: 4, width: 16, depth: 2, heads: 2, mlpDim: 32, classes: 13)
    static let text = TextEncoderConfig(vocabSize: 128, maxLength: 12, width: 16, depth: 1, heads: 2, mlpDim: 32)
    static let unet = UNetConfig(blockOutChannels: [8, 16], layersPerBlock: 1, crossAttentionDim: 16, heads: 2)

    static func vitTask(seed: UInt64) throws -> ViTClassificationTask {
        ViTClassificationTask(vit: try ViT(config: vit, key: RNGKey(seed: seed)), data: data, seed: 5, batchSize: 4)
    }
}

@Suite struct TrainerTests {
    let settings = TrainSettings(steps: 4, batchSize: 4, learningRate: 3e-3, warmupSteps: 1, gradClip: 1, emaDecay: 0.9, seed: 5)

    /// Kill/resume at tiny scale: 2 steps, checkpoint to disk, a FRESH model (other init) restores it and
    /// runs 2 more; weights, optimizer and EMA end byte-identical to 4 uninterrupted steps.
    @Test func resumedRunEndsAtTheSameBytes() throws {
        let straight = Trainer(task: try TinyModels.vitTask(seed: 1), settings: settings)
        while !straight.isDone { try straight.trainStep() }

        let first = Trainer(task: try TinyModels.vitTask(seed: 1), settings: settings)
        try first.trainStep(); try first.trainStep()
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("resume-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let dir = try TrainingCheckpoint.save(first.state(), root: root)

        let second = Trainer(task: try TinyModels.vitTask(seed: 99), settings: settings)
        try second.restore(try TrainingCheckpoint.load(dir, rng: RandomStream.self), path: dir.path)
        #expect(second.step == 2)
        while !second.isDone { try second.trainStep() }

        #expect(SafeTensors.encode(second.weights()) == SafeTensors.encode(straight.weights()))
        #expect(SafeTensors.encode(second.optimizer.stateFile()) == SafeTensors.encode(straight.optimizer.stateFile()))
        #expect(SafeTensors.encode(second.finalWeights()) == SafeTensors.encode(straight.finalWeights()))
        #expect(second.weights() != first.weights(), "the last two steps changed the weights")
    }

    /// `stopAt`: the run cut short at step 2 of the 4-step schedule ends with the same bytes as the
    /// 4-step run after its second step (same learning rates), and is done there.
    @Test func aRunStoppedEarlyIsTheLongRunAtThatStep() throws {
        var short = settings
        short.stopAt = 2
        #expect(short.trainedSteps == 2 && settings.trainedSteps == 4 && short.asRecord["stop_at"] == "2" && settings.asRecord["stop_at"] == nil)
        let cut = Trainer(task: try TinyModels.vitTask(seed: 1), settings: short)
        while !cut.isDone { try cut.trainStep() }
        let long = Trainer(task: try TinyModels.vitTask(seed: 1), settings: settings)
        try long.trainStep(); try long.trainStep()
        #expect(cut.step == 2 && !long.isDone)
        #expect(SafeTensors.encode(cut.finalWeights()) == SafeTensors.encode(long.finalWeights()))
        var beyond = settings
        beyond.stopAt = 10
        #expect(beyond.trainedSteps == 4, "never past the schedule")
    }

    /// A learning curve measures the EMA weights (what ships) and training goes on with the live ones.
    @Test func withEMAWeightsSwapsInTheAverageAndPutsTheLiveWeightsBack() throws {
        let t = Trainer(task: try TinyModels.vitTask(seed: 1), settings: settings)
        try t.trainStep(); try t.trainStep()
        let live = t.weights(), averaged = t.finalWeights()
        #expect(live != averaged)
        let inside = t.withEMAWeights { t.weights() }
        #expect(inside == averaged)
        #expect(t.weights() == live)
    }

    @Test func restoreRefusesAnotherSeed() throws {
        let a = Trainer(task: try TinyModels.vitTask(seed: 1), settings: settings)
        try a.trainStep()
        var other = settings
        other.seed = 6
        let b = Trainer(task: try TinyModels.vitTask(seed: 1), settings: other)
        #expect(throws: TrainingError.self) { try b.restore(a.state(), path: "mem") }
    }

    @Test func lossFallsOnARepeatedBatch() throws {
        let task = try TinyModels.vitTask(seed: 2)
        let fixed = FixedStepTask(inner: task)
        let t = Trainer(task: fixed, settings: TrainSettings(steps: 40, batchSize: 4, learningRate: 3e-3, gradClip: 0, minLRFraction: 1, seed: 5))
        let before = try task.loss(step: 0).value.scalars[0]
        while !t.isDone { try t.trainStep() }
        let after = try task.loss(step: 0).value.scalars[0]
        #expect(after < 0.5 * before, "loss \(before) -> \(after)")
    }

    /// `learningRateScales`: a key's update is its multiple of the scheduled rate. AdamW's first step moves
    /// every weight by lr (m / sqrt(v) = 1 after bias correction), so a at lr, b at half of it.
    @Test func aTaskScalesTheLearningRateOfItsKeys() throws {
        let task = ScaledTask()
        let t = Trainer(task: task, settings: TrainSettings(steps: 1, batchSize: 1, learningRate: 0.1, weightDecay: 0, gradClip: 0))
        try t.trainStep()
        #expect(abs(task.a.value.scalars[0] - 0.1) < 1e-6 && abs(task.b.value.scalars[0] - 0.05) < 1e-6,
                "\(task.a.value.scalars) \(task.b.value.scalars)")
    }

    @Test func scheduleWarmsUpThenDecays() {
        let s = TrainSettings(steps: 100, batchSize: 1, learningRate: 1e-3, warmupSteps: 10, minLRFraction: 0.1).schedule
        #expect(abs(s.lr(at: 0) - 1e-4) < 1e-12 && abs(s.lr(at: 9) - 1e-3) < 1e-12)
        #expect(s.lr(at: 50) < 1e-3 && s.lr(at: 50) > 1e-4)
        #expect(abs(s.lr(at: 100) - 1e-4) < 1e-12)
    }
}

/// Trains on batch 0 at every step (to see memorisation).
final class FixedStepTask: PretrainTask {
    let inner: any PretrainTask
    init(inner: any PretrainTask) { self.inner = inner }
    var trainable: [(String, Parameter)] { inner.trainable }
    func loss(step: Int) throws -> Variable { try inner.loss(step: 0) }
}

/// Loss (a - 1)^2 + (b - 1)^2 from a = b = 0, with b's learning rate halved.
final class ScaledTask: PretrainTask {
    let a = Parameter(Tensor(shape: [1], scalars: [0]), requiresGrad: true)
    let b = Parameter(Tensor(shape: [1], scalars: [0]), requiresGrad: true)
    var trainable: [(String, Parameter)] { [("a", a), ("b", b)] }
    var learningRateScales: [String: Double] { ["b": 0.5] }
    func loss(step: Int) throws -> Variable {
        let da = a - 1, db = b - 1
        return (da * da + db * db).sum()
    }
}
