import Autograd
import Checkpoint
import Models
import NN
import Optim
import Random
import TensorCore

/// Hyperparameters of the SSL finetuning (PatchDPO 4.2.2: SGD, lr 0.1, 10 epochs).
public struct SSLTrainingConfig: Sendable, Equatable, Codable {
    public var epochs = 10
    public var batchSize = 16
    public var learningRate = 0.1
    public var momentum = 0.0
    public var lambdaReg: Float = 1
    /// Blocks (1-based) the loss is taken at.
    public var blocks = [7]
    /// Strength of the photometric jitter of the transformed view (0 = off, the paper's loss).
    public var photometric: Float = 0
    public var seed: UInt64 = 0
    public init() {}
}

/// The data order of a run, a pure function of (seed, step), so a resumed run draws exactly what an
/// uninterrupted one draws: epoch e visits the images in `RandomStream(key: seed/"ssl-epoch"/e)`'s
/// permutation, in batches of `batchSize` (the last batch of an epoch may be smaller); step t uses
/// transform `GridTransform.ssl[uint32(seed/"ssl-transform", t) % 5]`.
public struct SSLSchedule: Sendable, Equatable, Codable {
    public let seed: UInt64
    public let imageCount: Int
    public let batchSize: Int
    public let epochs: Int

    public var batchesPerEpoch: Int { (imageCount + batchSize - 1) / batchSize }
    public var totalSteps: Int { epochs * batchesPerEpoch }

    /// Image indices and transform of step `t` (0-based).
    public func batch(at t: Int) -> (indices: [Int], transform: GridTransform) {
        precondition(t >= 0 && t < totalSteps, "SSLSchedule: step \(t) outside 0..<\(totalSteps)")
        let epoch = t / batchesPerEpoch, j = t % batchesPerEpoch
        var stream = RandomStream(key: RNGKey(seed: seed).fold(in: "ssl-epoch").fold(in: UInt64(epoch)))
        let perm = stream.permutation(imageCount)
        let indices = Array(perm[(j * batchSize)..<min(imageCount, (j + 1) * batchSize)])
        let pick = RNGKey(seed: seed).fold(in: "ssl-transform").uint32(at: UInt64(t))
        return (indices, GridTransform.ssl[Int(pick % UInt32(GridTransform.ssl.count))])
    }

    /// The photometric jitters of step `t`'s `count` images at `strength` (a pure function of seed and step).
    public func jitters(at t: Int, count: Int, strength: Float) -> [PhotometricJitter] {
        let key = RNGKey(seed: seed).fold(in: "ssl-photometric").fold(in: UInt64(t))
        return (0..<count).map { PhotometricJitter.random(strength: strength, key: key.fold(in: UInt64($0))) }
    }
}

/// SSL finetuning of a ViT against its frozen original (METHODS 3) with SGD, one step at a time;
/// `state()` / `restore(_:)` give bit-exact resume through Optim's `TrainingCheckpoint`.
public final class SSLTrainer {
    public let model: ViT
    public let frozen: ViT
    public let images: Tensor
    public let config: SSLTrainingConfig
    public let schedule: SSLSchedule
    public private(set) var optimizer: SGD
    /// Steps done so far (the next step is `step`).
    public private(set) var step = 0

    /// `images`: [N, 3, S, S] in [-1, 1] at the model's size. The model trains in place; `frozen`
    /// is never changed (its parameters are frozen here).
    public init(model: ViT, frozen: ViT, images: Tensor, config: SSLTrainingConfig) {
        precondition(images.rank == 4 && images.shape[0] > 0 && images.shape[2] == model.config.imageSize,
                     "SSLTrainer: images \(images.shape) for a ViT of size \(model.config.imageSize)")
        precondition(config.blocks.allSatisfy { (1...model.config.depth).contains($0) },
                     "SSLTrainer: blocks \(config.blocks) outside 1...\(model.config.depth)")
        self.model = model; self.frozen = frozen; self.images = images; self.config = config
        frozen.setRequiresGrad(false)
        schedule = SSLSchedule(seed: config.seed, imageCount: images.shape[0], batchSize: config.batchSize, epochs: config.epochs)
        optimizer = SGD(learningRate: config.learningRate, momentum: config.momentum)
    }

    public var isFinished: Bool { step >= schedule.totalSteps }

    /// One SGD step; returns the loss terms (values before the update).
    @discardableResult
    public func trainStep() -> (loss: Float, equivariance: Float, regularizer: Float) {
        let (indices, transform) = schedule.batch(at: step)
        let per = images.count / images.shape[0]
        var xs: [Float] = []
        xs.reserveCapacity(indices.count * per)
        for i in indices { xs += images.scalars[(i * per)..<((i + 1) * per)] }
        var shape = images.shape
        shape[0] = indices.count
        model.zeroGrad()
        let terms = SSLLoss.compute(model: model, frozen: frozen, images: Tensor(shape: shape, scalars: xs),
                                    transform: transform, blocks: config.blocks, lambdaReg: config.lambdaReg,
                                    jitter: config.photometric > 0
                                        ? schedule.jitters(at: step, count: indices.count, strength: config.photometric) : nil)
        terms.loss.backward()
        model.step(&optimizer)
        model.zeroGrad()
        step += 1
        return (terms.loss.item, terms.equivariance, terms.regularizer)
    }

    /// Everything needed to resume: weights, optimizer state, step (the schedule is stateless).
    public func state() -> TrainingState<SSLSchedule> {
        TrainingState(step: step, model: model.stateDict(), optimizer: optimizer.stateFile(), rng: schedule)
    }

    /// Restores a `state()`; throws when it belongs to another data set or schedule.
    public func restore(_ s: TrainingState<SSLSchedule>, path: String) throws {
        guard s.rng == schedule else {
            throw PatchQualityError.checkpointMismatch(path: path, detail: "schedule \(s.rng) differs from this run's \(schedule)")
        }
        try model.loadStrict(s.model, path: path)
        try optimizer.loadState(s.optimizer, path: path)
        step = s.step
    }
}
