import Autograd
import TensorCore

/// `patchdpo-pref` (METHODS.md 5, an ablation): per-pixel Diffusion-DPO with patch weights, reading the
/// paper's "rewards high-quality patches, penalises low-quality ones" as a true preference loss.
///
/// Rows are stacked [reference images (B); generated images (B)] (reference = winner). Per element,
/// e = (eps_* - eps)^2. Weights, broadcast over channels: W_w = 1 - q_r_up, W_l = 1 - q_g_up `[B, 1, H, W]`.
///   S = sum_CHW W_w + sum_CHW W_l                                         (all weights of the pair)
///   u = -(beta/2) * ( sum_CHW W_w (e_theta_w - e_ref_w) - sum_CHW W_l (e_theta_l - e_ref_l) ) / S
///   L = mean over pairs of -logsig(u)
/// A pair whose weights are all zero (S = 0) gives u = 0 (loss log 2, no gradient). With every weight 1
/// this is `diffusion-dpo` with beta / 2 (S counts both members' elements).
public func patchDPOPrefLoss(prediction: Variable, reference: Tensor, noise: Tensor,
                             referenceQuality: Tensor, generatedQuality: Tensor, beta: Float) -> LossOutput {
    let s = prediction.shape
    precondition(s == reference.shape && s == noise.shape && s.count == 4 && s[0] % 2 == 0,
                 "patchDPOPrefLoss: prediction \(s), reference \(reference.shape), noise \(noise.shape) (want equal [2B, C, H, W])")
    let b = s[0] / 2
    let want = [b, 1, s[2], s[3]]
    precondition(referenceQuality.shape == want && generatedQuality.shape == want,
                 "patchDPOPrefLoss: quality maps \(referenceQuality.shape), \(generatedQuality.shape); want \(want)")
    let ww = Kernels.addScalar(Kernels.neg(referenceQuality), 1)
    let wl = Kernels.addScalar(Kernels.neg(generatedQuality), 1)
    let target = Variable(noise)
    let theta = (prediction - target).squared()
    let ref = Kernels.mul(Kernels.sub(reference, noise), Kernels.sub(reference, noise))
    let (thetaW, thetaL) = halves(theta, "patchDPOPrefLoss")
    let (refW, refL) = halves(Variable(ref), "patchDPOPrefLoss")
    let axes = [1, 2, 3]
    let termW = ((thetaW - refW) * Variable(ww)).sum(axes: axes)
    let termL = ((thetaL - refL) * Variable(wl)).sum(axes: axes)
    // S per pair, times C for the broadcast over channels; zero sums become 1 (their numerator is 0).
    var total = Kernels.add(Kernels.sum(ww, axes: axes), Kernels.sum(wl, axes: axes))
    for i in total.scalars.indices { total.scalars[i] = total.scalars[i] > 0 ? total.scalars[i] * Float(s[1]) : 1 }
    let inside = ((termW - termL) / Variable(total)).scaled(-beta * Float(LossKind.patchdpoPref.betaScale))
    let loss = negLogSigmoid(inside).mean()
    return LossOutput(loss: loss, inside: inside.value.scalars, parts: ["patchdpo_pref": Double(loss.item)])
}
