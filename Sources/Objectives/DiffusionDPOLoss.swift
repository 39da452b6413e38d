import Autograd
import TensorCore

/// `diffusion-dpo` (Wallace et al., METHODS.md 5, following their training code).
///
/// Rows are stacked [winners (B); losers (B)]; each pair shares one t and one eps. Per row,
///   e_theta = mean_CHW (eps_theta - eps)^2,   e_ref = mean_CHW (eps_ref - eps)^2
///   u = -(scale * beta) * ((e_theta_w - e_theta_l) - (e_ref_w - e_ref_l))  per pair, `[B]`
///   L = mean over pairs of -logsig(u)
/// scale = 1/2 in Wallace et al.'s training code (`scale_term = -0.5 * beta_dpo`), so their beta = 5000
/// acts as 2500 in the paper's -beta form; HG-DPO's Eq. 3 has no 1/2 (scale 1, beta 2500); see
/// `LossKind.betaScale`. Implicit accuracy = share of pairs with u > 0.
/// - Parameters:
///   - prediction: eps_theta on the stack, `[2B, C, H, W]` (differentiable).
///   - reference: eps_ref of the frozen model on the same inputs, `[2B, C, H, W]` (a constant).
///   - noise: eps on the stack, `[2B, C, H, W]`.
public func diffusionDPOLoss(prediction: Variable, reference: Tensor, noise: Tensor, beta: Float,
                             scale: Float = Float(LossKind.diffusionDPO.betaScale)) -> LossOutput {
    precondition(prediction.shape == reference.shape && prediction.shape == noise.shape,
                 "diffusionDPOLoss: prediction \(prediction.shape), reference \(reference.shape), noise \(noise.shape) must agree")
    let target = Variable(noise)
    let (thetaW, thetaL) = halves(rowMeanSquaredError(prediction, target), "diffusionDPOLoss")
    let (refW, refL) = halves(rowMeanSquaredError(Variable(reference), target), "diffusionDPOLoss")
    let modelDiff = thetaW - thetaL
    let refDiff = refW - refL                                   // constant: no grad flows here
    let inside = (modelDiff - refDiff).scaled(-beta * scale)
    let loss = negLogSigmoid(inside).mean()
    return LossOutput(loss: loss, inside: inside.value.scalars, parts: [
        "dpo": Double(loss.item),
        "model_diff": Double(Kernels.mean(modelDiff.value, axes: [0]).scalars[0]),
        "ref_diff": Double(Kernels.mean(refDiff.value, axes: [0]).scalars[0]),
    ])
}
