import Autograd
import TensorCore

/// `dm` and `sft` (METHODS.md 5): the plain epsilon-prediction diffusion loss
///   L = mean over all R*C*H*W elements of (eps_theta(x_t, t) - eps)^2.
/// `dm` applies it to every row given (both members of each pair); `sft` to the winners only (the
/// caller passes only those rows). Shapes: `prediction`, `noise` `[R, C, H, W]`.
public func diffusionLoss(prediction: Variable, noise: Tensor) -> LossOutput {
    precondition(prediction.shape == noise.shape,
                 "diffusionLoss: prediction \(prediction.shape) vs noise \(noise.shape)")
    let loss = mseLoss(prediction, Variable(noise))
    return LossOutput(loss: loss, parts: ["mse": Double(loss.item)])
}
