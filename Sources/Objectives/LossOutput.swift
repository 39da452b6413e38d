import Autograd
import TensorCore

/// What every loss of METHODS.md 5 returns: the scalar to differentiate and the figures to log.
///
/// - `loss`: a one-element `Variable` (shape `[]`), differentiable w.r.t. the policy's predictions.
/// - `inside`: the per-pair preference logit u (the argument of logsig), `[B]`, for the preference
///   losses (`diffusion-dpo`, `hg-dpo`, `patchdpo-pref`, `dco`); nil for plain reconstruction losses.
/// - `implicitAccuracy`: share of pairs with u > 0 (Wallace et al.'s "implicit accuracy"); nil when
///   there is no preference logit.
/// - `parts`: named components (e.g. `dpo`, `stat` of `hg-dpo`) as plain numbers, for the metrics.
public struct LossOutput {
    public let loss: Variable
    public let inside: [Float]?
    public let parts: [String: Double]

    public init(loss: Variable, inside: [Float]? = nil, parts: [String: Double] = [:]) {
        precondition(loss.value.count == 1, "LossOutput: loss must have one element, got shape \(loss.shape)")
        self.loss = loss
        self.inside = inside
        self.parts = parts
    }

    /// Share of pairs whose preference logit is positive (the policy prefers the winner more than
    /// the reference model does), in [0, 1]; nil without a preference logit.
    public var implicitAccuracy: Double? {
        guard let u = inside, !u.isEmpty else { return nil }
        return Double(u.filter { $0 > 0 }.count) / Double(u.count)
    }
}

/// Per-row mean squared error, mean_CHW (pred - target)^2: `[R, ...]` -> `[R]` (METHODS.md notation).
public func rowMeanSquaredError(_ prediction: Variable, _ target: Variable) -> Variable {
    precondition(prediction.shape == target.shape && prediction.shape.count >= 2,
                 "rowMeanSquaredError: prediction \(prediction.shape) vs target \(target.shape) (want equal [R, ...])")
    let d = prediction - target
    return d.squared().mean(axes: Array(1..<prediction.shape.count))
}

/// Splits a `[2B, ...]` stack into its first (winner / reference) and second (loser / generated) halves.
func halves(_ x: Variable, _ what: String) -> (Variable, Variable) {
    precondition(x.shape.count >= 1 && x.shape[0] % 2 == 0 && x.shape[0] > 0,
                 "\(what): want a stack of [winners; losers] with an even, positive row count, got shape \(x.shape)")
    let b = x.shape[0] / 2
    return (x.slice(axis: 0, start: 0, end: b), x.slice(axis: 0, start: b, end: 2 * b))
}

/// -logsig(u) = log(1 + e^-u), stable for any u (Autograd's `logSigmoid`).
func negLogSigmoid(_ u: Variable) -> Variable { -u.logSigmoid() }
