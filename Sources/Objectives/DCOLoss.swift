import Autograd
import TensorCore

/// `dco` (Lee et al., direct consistency optimisation; METHODS.md 5), on reference (consistency) data.
///
/// Per row r (one t and eps each):
///   e_theta = mean_CHW (eps_theta - eps)^2,   e_ref = mean_CHW (eps_ref - eps)^2
///   u_r = -beta * (e_theta - e_ref)
///   L = mean over rows of -logsig(u_r)
/// As in the DCO training code the per-sample losses are formed first and the log-sigmoid is taken per
/// sample (with one row this is exactly the formula of METHODS.md). Code beta = 1000 (paper beta 1 times
/// T with omega(t) = 1). "Implicit accuracy" here = share of rows the policy fits better than the reference.
/// Shapes: `prediction`, `reference`, `noise` `[R, C, H, W]`.
public func dcoLoss(prediction: Variable, reference: Tensor, noise: Tensor, beta: Float) -> LossOutput {
    precondition(prediction.shape == reference.shape && prediction.shape == noise.shape && prediction.shape.count >= 2,
                 "dcoLoss: prediction \(prediction.shape), reference \(reference.shape), noise \(noise.shape) must agree")
    let target = Variable(noise)
    let theta = rowMeanSquaredError(prediction, target)
    let ref = rowMeanSquaredError(Variable(reference), target)
    let inside = (theta - ref).scaled(-beta)
    let loss = negLogSigmoid(inside).mean()
    return LossOutput(loss: loss, inside: inside.value.scalars, parts: [
        "dco": Double(loss.item),
        "model_mse": Double(Kernels.mean(theta.value, axes: [0]).scalars[0]),
        "ref_mse": Double(Kernels.mean(ref.value, axes: [0]).scalars[0]),
    ])
}
