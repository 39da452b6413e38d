import Autograd
import ErrorKinds
import Checkpoint
import Foundation
import NN
import Optim
import Random
import TensorCore

/// Optimisation settings shared by the four pretraining tasks: AdamW (torch semantics), linear warmup
/// then cosine decay to `minLRFraction * learningRate` over `steps`, optional global-norm gradient
/// clipping (`gradClip <= 0` = off), optional EMA of the trainable weights (`emaDecay <= 0` = off).
public struct TrainSettings: Sendable, Codable, Equatable {
    public var steps: Int
    public var batchSize: Int
    public var learningRate: Double
    public var warmupSteps: Int
    public var weightDecay: Double
    public var gradClip: Double
    public var emaDecay: Double
    public var minLRFraction: Double
    public var seed: UInt64
    /// End the run after this many steps of the `steps` schedule (a long schedule cut short, as a run
    /// interrupted for good at that step); nil = at `steps`.
    public var stopAt: Int?
    /// The arithmetic of the loss's and the backward's matrix products (TensorCore's `GEMMPrecision`): `.bf16` is mixed
    /// precision (bfloat16 operands, FP32 accumulation; weights, gradients, optimizer and everything not a product stay
    /// FP32), on CPUs with AVX512-BF16 only.
    public var precision: GEMMPrecision

    public init(steps: Int, batchSize: Int, learningRate: Double, warmupSteps: Int = 0, weightDecay: Double = 0.01,
                gradClip: Double = 1, emaDecay: Double = 0, minLRFraction: Double = 0.05, seed: UInt64 = 0, stopAt: Int? = nil,
                precision: GEMMPrecision = .fp32) {
        self.steps = steps; self.batchSize = batchSize; self.learningRate = learningRate
        self.warmupSteps = warmupSteps; self.weightDecay = weightDecay; self.gradClip = gradClip
        self.emaDecay = emaDecay; self.minLRFraction = minLRFraction; self.seed = seed; self.stopAt = stopAt
        self.precision = precision
    }

    /// The steps this run trains: `stopAt` when set (at most `steps`), else `steps`.
    public var trainedSteps: Int { min(stopAt ?? steps, steps) }

    public var schedule: LRSchedule {
        LRSchedule(base: learningRate, warmupSteps: warmupSteps, totalSteps: steps,
                   floor: learningRate * minLRFraction, decay: .cosine)
    }

    /// As text for a record.
    public var asRecord: [String: String] {
        ["steps": "\(steps)", "batch": "\(batchSize)", "lr": "\(learningRate)", "warmup": "\(warmupSteps)",
         "weight_decay": "\(weightDecay)", "grad_clip": "\(gradClip)", "ema_decay": "\(emaDecay)",
         "min_lr_fraction": "\(minLRFraction)", "optimizer": "AdamW", "schedule": "warmup+cosine"]
            .merging(stopAt.map { ["stop_at": "\($0)"] } ?? [:]) { a, _ in a }
            .merging(precision == .fp32 ? [:] : ["precision": precision.rawValue]) { a, _ in a }
    }
}

/// A pretraining task: its trainable parameters under unique keys and the loss of batch `step`,
/// which must be a pure function of (the task's seed, step, current weights).
public protocol PretrainTask: AnyObject {
    var trainable: [(String, Parameter)] { get }
    func loss(step: Int) throws -> Variable
    /// Called after each optimizer update (e.g. CLIP clamps its logit scale).
    func afterUpdate()
    /// Per-parameter multipliers of the scheduled learning rate, by trainable key (missing = 1): a
    /// pretrained part fine-tuned more gently than the new parts beside it.
    var learningRateScales: [String: Double] { get }
}

extension PretrainTask {
    public func afterUpdate() {}
    public var learningRateScales: [String: Double] { [:] }
}

/// The training loop of every pretraining stage. One step:
/// 1. clear gradients; L = task.loss(step); backward (their products in `settings.precision`);
/// 2. clip the global gradient norm (if on); lr = schedule(step);
/// 3. AdamW update of each trainable parameter (in key order); task.afterUpdate(); EMA update;
/// 4. step += 1.
/// `state()` captures weights, optimizer, EMA and the step; `restore` puts them back, so a run
/// resumed from a checkpoint ends with the same bytes as one that never stopped (the data and noise
/// of a step are functions of (seed, step), and every kernel is deterministic).
public final class Trainer {
    public let task: any PretrainTask
    public let settings: TrainSettings
    public private(set) var optimizer: AdamW
    public private(set) var ema: EMA?
    public private(set) var step = 0
    /// Loss and gradient norm of the last step.
    public private(set) var lastLoss: Float = .nan
    public private(set) var lastGradNorm: Float = .nan
    let lrScales: [String: Double]

    public init(task: any PretrainTask, settings: TrainSettings) {
        self.task = task
        self.settings = settings
        optimizer = AdamW(learningRate: settings.learningRate, weightDecay: settings.weightDecay)
        ema = settings.emaDecay > 0 ? EMA(decay: settings.emaDecay, warmup: true) : nil
        let keys = task.trainable.map(\.0)
        precondition(Set(keys).count == keys.count, "Trainer: duplicate trainable keys")
        lrScales = task.learningRateScales
    }

    public var isDone: Bool { step >= settings.trainedSteps }

    /// Runs one step; returns the loss.
    @discardableResult
    public func trainStep() throws -> Float {
        let params = task.trainable
        for (_, p) in params { p.grad = nil }
        let loss = try GEMMPrecision.with(settings.precision) { () throws -> Variable in
            let loss = try task.loss(step: step)
            precondition(loss.shape.isEmpty || loss.value.count == 1, "Trainer: loss must be a scalar, got \(loss.shape)")
            loss.backward()
            return loss
        }
        let withGrad = params.filter { $0.1.grad != nil }
        var grads = Dictionary(uniqueKeysWithValues: withGrad.map { ($0.0, $0.1.grad!.scalars) })
        lastGradNorm = settings.gradClip > 0
            ? GradClip.clipGradNorm(&grads, maxNorm: settings.gradClip)
            : Float(grads.values.reduce(0.0) { $0 + $1.reduce(0.0) { $0 + Double($1) * Double($1) } }.squareRoot())
        let lr = settings.schedule.lr(at: step)
        for (key, p) in withGrad.sorted(by: { $0.0 < $1.0 }) {
            optimizer.learningRate = lr * (lrScales[key] ?? 1)
            grads[key]!.withUnsafeBufferPointer { g in
                p.value.scalars.withUnsafeMutableBufferPointer { optimizer.update(key, parameter: $0, gradient: g) }
            }
            p.grad = nil
        }
        task.afterUpdate()
        if ema != nil { ema!.step(Dictionary(uniqueKeysWithValues: params.map { ($0.0, $0.1.value.scalars) })) }
        lastLoss = loss.value.scalars[0]
        step += 1
        return lastLoss
    }

    /// The trainable weights as a safetensors file (by key).
    public func weights() -> SafeTensorsFile {
        var f = SafeTensorsFile()
        for (k, p) in task.trainable { f.tensors[k] = TensorData(shape: p.shape, values: p.value.scalars) }
        return f
    }

    /// The EMA weights (or the live weights when EMA is off), by key.
    public func finalWeights() -> SafeTensorsFile {
        guard let ema else { return weights() }
        let shapes = Dictionary(uniqueKeysWithValues: task.trainable.map { ($0.0, $0.1.shape) })
        var f = ema.stateFile(shapes: shapes)
        f.metadata = [:]
        return f
    }

    /// Runs `body` with the EMA weights in the live parameters, then puts the live weights back (a learning
    /// curve then measures what would ship). Without EMA, just runs `body`.
    public func withEMAWeights<T>(_ body: () throws -> T) rethrows -> T {
        guard ema != nil else { return try body() }
        let live = task.trainable.map { $0.1.value }
        applyEMA()
        defer { for ((_, p), v) in zip(task.trainable, live) { p.value = v } }
        return try body()
    }

    /// Copies EMA weights into the live parameters (before evaluating or exporting). No-op without EMA.
    public func applyEMA() {
        guard let ema else { return }
        for (k, p) in task.trainable { if let s = ema.shadow[k] { p.value = Tensor(shape: p.shape, scalars: s) } }
    }

    /// Everything needed to resume.
    public func state() -> TrainingState<RandomStream> {
        var extras: [String: SafeTensorsFile] = [:]
        if let ema { extras["ema"] = ema.stateFile() }
        return TrainingState(step: step, model: weights(), optimizer: optimizer.stateFile(),
                             rng: RandomStream(key: RNGKey(seed: settings.seed), position: UInt64(step)),
                             extraFiles: extras, metadata: ["seed": "\(settings.seed)"])
    }

    /// Restores a state written by `state()` of a trainer with the same task and settings.
    public func restore(_ s: TrainingState<RandomStream>, path: String) throws {
        guard s.rng.key == RNGKey(seed: settings.seed), s.rng.position == UInt64(s.step) else {
            throw TrainingError.resumeMismatch(path: path, reason: "checkpoint was written with another seed (rng \(s.rng.key))")
        }
        let expected = Dictionary(uniqueKeysWithValues: task.trainable.map { ($0.0, $0.1.shape) })
        try s.model.checkStrict(expected: expected, path: path)
        for (k, p) in task.trainable { p.value = Tensor(shape: p.shape, scalars: s.model.tensors[k]!.values) }
        var o = AdamW()
        try o.loadState(s.optimizer, path: path)
        optimizer = o
        if ema != nil {
            guard let e = s.extraFiles["ema"] else {
                throw TrainingError.resumeMismatch(path: path, reason: "EMA is on but the checkpoint has no ema file")
            }
            var m = EMA()
            try m.loadState(e, path: path)
            ema = m
        }
        step = s.step
    }
}

/// Problems of a pretraining run; each names the file or field.
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    case resumeMismatch(path: String, reason: String)
    case invalidSetting(field: String, reason: String)
    /// A stored same-subject set (`pretrain jedi-sets`) that training cannot read.
    case badSet(path: String, reason: String)

    public var description: String {
        switch self {
        case let .resumeMismatch(p, r): return "\(p): cannot resume: \(r); hint: rerun with --force to start over"
        case let .invalidSetting(f, r): return "pretrain setting \(f): \(r)"
        case let .badSet(p, r): return "\(p): \(r); hint: rerun `pretrain jedi-sets --force` to rewrite the sets"
        }
    }
}

extension TrainingError: ClassifiedError {
    /// A checkpoint that does not match the run, a setting out of its range or an unreadable stored set: the input is
    /// wrong (65).
    public var errorKind: ErrorKind {
        switch self {
        case .resumeMismatch, .invalidSetting, .badSet: return .badData
        }
    }
}
