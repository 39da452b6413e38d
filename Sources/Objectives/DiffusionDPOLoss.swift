import Autograd
import TensorCore

/// `diffusion-dpo` (Wallace et al., METHODS.md 5, following their training code).
///
/// Rows are stacked [winners (B); losers (B)]; each pair shares one t and one eps. Per row,
///   e_theta = mean_CHW (eps_theta - eps)^2,   e_ref = mean_CHW (eps_ref - eps)^2
///   u = -(beta/2) * ((e_theta_w - e_theta_l) - (e_ref_w - e_ref_l))       per pair, `[B]`
///   L = mean over pairs of -logsig(u)
/// Implicit accuracy = share of pairs with u > 0. Code default beta = 5000 (the per-element mean
/// absorbs the scale; HG-DPO uses 2500).
/// - Parameters:
///   - prediction: eps_theta on the stack, `[2B, C, H, W]` (differentiable).
///   - reference: eps_ref of the frozen model on the same inputs, `[2B, C, H, W]` (a constant).
///   - noise: eps on the stack, `[2B, C, H, W]`.
public func diffusionDPOLoss(prediction: Variable, reference: Tensor, noise: Tensor, beta: Float) -> LossOutput {
    precondition(prediction.shape == reference.shape && prediction.shape == noise.shape,
                 "diffusionDPOLoss: prediction \(prediction.shape), reference \(reference.shape), noise \(noise.shape) must agree")
    let target = Variable(noise)
    let (thetaW, thetaL) = halves(rowMeanSquaredError(prediction, target), "diffusionDPOLoss")
    let (refW, refL) = halves(rowMeanSquaredError(Variable(reference), target), "diffusionDPOLoss")
    let modelDiff = thetaW - thetaL
    let refDiff = refW - refL                                   // constant: no grad flows here
    let inside = (modelDiff - refDiff).scaled(-beta / 2)
    let loss = negLogSigmoid(inside).mean()
    return LossOutput(loss: loss, inside: inside.value.scalars, parts: [
        "dpo": Double(loss.item),
        "model_diff": Double(Kernels.mean(modelDiff.value, axes: [0]).scalars[0]),
        "ref_diff": Double(Kernels.mean(refDiff.value, axes: [0]).scalars[0]),
    ])
}
