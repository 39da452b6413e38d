import Objectives
import TensorCore

/// How every run of a multi-run preference training trains (the `[dpo-train]` section as values).
public struct PreferenceSettings: Sendable {
    /// Optimizer steps per run.
    public var steps: Int
    /// Pairs per step, drawn with replacement from the run's stream.
    public var batch: Int
    /// AdamW, constant learning rate.
    public var learningRate: Double
    public var weightDecay: Double
    /// beta of the preference losses; nil = each loss's code default.
    public var beta: Float?
    /// hg-dpo's statistic-matching weight and reverse step (a shared z, or the posterior mean).
    public var lambdaStat: Float
    public var sampledStatStep: Bool
    public var conditionDropout: ConditionDropout
    /// Also train the resampler (`image_proj.*`).
    public var trainResampler: Bool
    /// Gradient 2-norm clip; <= 0: none.
    public var maxGradNorm: Double
    public var ipScale: Float
    /// A checkpoint every K steps of a run (0: none) besides its last step's; a log line every K steps.
    public var checkpointEvery: Int
    public var logEvery: Int
    /// The pipeline run's seed: a run's stream is keyed by it and the run's own seed.
    public var seed: Int
    /// What the adapter records say made them: the stage's code version and canonical config.
    public var codeVersion: String
    public var config: String
    /// The arithmetic of each step's products (loss and backward): `.bf16` is mixed precision (bfloat16 operands, FP32
    /// accumulation, weights, gradients and optimizer), on CPUs with AVX512-BF16 only.
    public var precision: GEMMPrecision

    public init(steps: Int, batch: Int, learningRate: Double, weightDecay: Double, beta: Float?, lambdaStat: Float,
                sampledStatStep: Bool, conditionDropout: ConditionDropout, trainResampler: Bool, maxGradNorm: Double, ipScale: Float,
                checkpointEvery: Int, logEvery: Int, seed: Int, codeVersion: String, config: String, precision: GEMMPrecision = .fp32) {
        self.steps = steps; self.batch = batch; self.learningRate = learningRate; self.weightDecay = weightDecay
        self.beta = beta; self.lambdaStat = lambdaStat; self.sampledStatStep = sampledStatStep
        self.conditionDropout = conditionDropout; self.trainResampler = trainResampler; self.maxGradNorm = maxGradNorm
        self.ipScale = ipScale; self.checkpointEvery = checkpointEvery; self.logEvery = logEvery; self.seed = seed
        self.codeVersion = codeVersion; self.config = config; self.precision = precision
    }
}
