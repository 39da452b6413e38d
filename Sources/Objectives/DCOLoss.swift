import Autograd
import TensorCore

/// `dco` (Lee et al., direct consistency optimisation; METHODS.md 5), on reference (consistency) data.
///
/// Over the batch's R rows (one t and eps each):
///   E_theta = mean over rows and CHW of (eps_theta - eps)^2,   E_ref = the same for eps_ref
///   u = -beta * (E_theta - E_ref)
///   L = -logsig(u)
/// As in the DCO training code (and METHODS.md 5): the batch-mean MSE of each model first, then ONE
/// log-sigmoid (not a log-sigmoid per row then a mean). Code beta = 1000 (paper beta 1 times T with
/// omega(t) = 1). `inside` holds the per-row logits -beta (e_theta_r - e_ref_r) for the "implicit
/// accuracy" (share of rows the policy fits better than the reference); only `u` enters the loss.
/// Shapes: `prediction`, `reference`, `noise` `[R, C, H, W]`.
public func dcoLoss(prediction: Variable, reference: Tensor, noise: Tensor, beta: Float) -> LossOutput {
    precondition(prediction.shape == reference.shape && prediction.shape == noise.shape && prediction.shape.count >= 2,
                 "dcoLoss: prediction \(prediction.shape), reference \(reference.shape), noise \(noise.shape) must agree")
    let target = Variable(noise)
    let theta = rowMeanSquaredError(prediction, target)
    let ref = rowMeanSquaredError(Variable(reference), target)
    let perRow = (theta - ref).scaled(-beta)
    let u = (theta.mean() - ref.mean()).scaled(-beta)
    let loss = negLogSigmoid(u).mean()
    return LossOutput(loss: loss, inside: perRow.value.scalars, parts: [
        "dco_logit": Double(u.item),
        "dco": Double(loss.item),
        "model_mse": Double(Kernels.mean(theta.value, axes: [0]).scalars[0]),
        "ref_mse": Double(Kernels.mean(ref.value, axes: [0]).scalars[0]),
    ])
}
