import Autograd
import TensorCore

/// `patchdpo` (METHODS.md 5; what PatchDPO's reference code trains): patch-weighted reconstruction.
///
/// A batch of B pairs is stacked as rows [reference images (B); generated images (B)], each pair sharing
/// its t and eps and its conditioning (prompt and image tokens of the reference). With the patch-quality
/// maps upsampled to the loss resolution, q_r_up, q_g_up `[B, 1, H, W]`:
///   W = [1 - q_r_up ; q_g_up]                                  `[2B, 1, H, W]`, broadcast over C
///   L = mean over all 2B*C*H*W elements of W * (eps_theta - eps)^2
/// No frozen model, no sigmoid, no negative weights. Reference background has q_r = 1 (weight 0);
/// generated background has q_g = 1 (weight 1, trains normally).
/// - Parameters:
///   - prediction: eps_theta on the stack, `[2B, C, H, W]`.
///   - noise: eps on the stack (each pair's eps twice), `[2B, C, H, W]`.
///   - referenceQuality: q_r_up, `[B, 1, H, W]`, values in [0, 1].
///   - generatedQuality: q_g_up, `[B, 1, H, W]`, values in [0, 1].
public func patchDPOLoss(prediction: Variable, noise: Tensor,
                         referenceQuality: Tensor, generatedQuality: Tensor) -> LossOutput {
    let s = prediction.shape
    precondition(s == noise.shape && s.count == 4 && s[0] % 2 == 0,
                 "patchDPOLoss: prediction \(s) vs noise \(noise.shape) (want equal [2B, C, H, W])")
    let want = [s[0] / 2, 1, s[2], s[3]]
    precondition(referenceQuality.shape == want && generatedQuality.shape == want,
                 "patchDPOLoss: quality maps \(referenceQuality.shape), \(generatedQuality.shape); want \(want)")
    let w = patchDPOWeights(referenceQuality: referenceQuality, generatedQuality: generatedQuality)
    let err = (prediction - Variable(noise)).squared()
    let loss = (err * Variable(w)).mean()
    return LossOutput(loss: loss, parts: ["weighted_mse": Double(loss.item),
                                          "mean_weight": Double(Kernels.mean(w, axes: [0, 1, 2, 3]).scalars[0])])
}

/// W = [1 - q_r ; q_g], `[2B, 1, H, W]` from two `[B, 1, H, W]` maps.
public func patchDPOWeights(referenceQuality: Tensor, generatedQuality: Tensor) -> Tensor {
    let inv = Kernels.addScalar(Kernels.neg(referenceQuality), 1)
    return Kernels.concat([inv, generatedQuality], axis: 0)
}
