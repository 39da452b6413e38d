import Autograd
import Diffusion
import TensorCore

/// `hg-dpo` (HG-DPO, METHODS.md 5): Diffusion-DPO on pool winner/loser pairs plus statistic matching.
///
///   L = L_dpo(beta) + lambda_stat * L_stat, L_dpo in HG-DPO's Eq. 3 form: -logsig(-beta * (...)) (no 1/2)
///   step(x_t, e) = a_t x_t + b_t e + s_t z     one DDPM reverse step without guidance (Ho et al. eq. 6-7;
///                                              `NoiseSchedule.posteriorCoefficients`), the SAME z in both
///                                              branches, or z = 0 (the posterior mean)
///   mu(x) = channel-wise spatial mean          `[B, C]`
///   L_stat = mean over pairs of sum_C ( mu(step(x^w_t, eps_theta_w)) - mu(step(x^w_t, eps_ref_w)) )^2
/// on the winners only. HG-DPO code: beta = 2500, lambda_stat = 10000. The reference branch is a constant.
/// - Parameters:
///   - prediction, reference, noise: as in `diffusionDPOLoss`, `[2B, C, H, W]` stacked [winners; losers].
///   - noisySample: x_t on the same stack, `[2B, C, H, W]` (only the winners' half is used).
///   - timesteps: t per pair, `[B]`.
///   - stepNoise: z for the winners, `[B, C, H, W]`, or nil for the posterior mean.
public func hgDPOLoss(prediction: Variable, reference: Tensor, noise: Tensor, noisySample: Tensor,
                      timesteps: [Int], schedule: NoiseSchedule, stepNoise: Tensor?,
                      beta: Float, lambdaStat: Float) -> LossOutput {
    let s = prediction.shape
    precondition(noisySample.shape == s && s.count == 4 && timesteps.count * 2 == s[0],
                 "hgDPOLoss: prediction \(s), x_t \(noisySample.shape), \(timesteps.count) timesteps (want [2B, C, H, W] and B)")
    let b = s[0] / 2
    let rowShape = [b, s[1], s[2], s[3]]
    if let z = stepNoise { precondition(z.shape == rowShape, "hgDPOLoss: step noise \(z.shape), want \(rowShape)") }
    let dpo = diffusionDPOLoss(prediction: prediction, reference: reference, noise: noise, beta: beta,
                               scale: Float(LossKind.hgDPO.betaScale))

    var onSample = [Float](), onEps = [Float](), std = [Float]()
    for t in timesteps {
        let c = schedule.posteriorCoefficients(t)
        onSample.append(c.sample); onEps.append(c.epsilon); std.append(c.std)
    }
    let col = [b, 1, 1, 1]
    let xw = Kernels.slice(noisySample, axis: 0, start: 0, length: b)
    var fixed = Kernels.mul(xw, Tensor(shape: col, scalars: onSample))     // a_t x_t (+ s_t z)
    if let z = stepNoise { fixed = Kernels.add(fixed, Kernels.mul(z, Tensor(shape: col, scalars: std))) }
    let epsScale = Variable(Tensor(shape: col, scalars: onEps))
    let thetaW = prediction.slice(axis: 0, start: 0, end: b)
    let refW = Variable(Kernels.slice(reference, axis: 0, start: 0, length: b))
    let stepTheta = Variable(fixed) + thetaW * epsScale
    let stepRef = Variable(fixed) + refW * epsScale
    let muDiff = stepTheta.mean(axes: [2, 3]) - stepRef.mean(axes: [2, 3])  // [B, C]
    let stat = muDiff.squared().sum(axes: [1]).mean()
    let loss = dpo.loss + stat.scaled(lambdaStat)
    var parts = dpo.parts
    parts["stat"] = Double(stat.item)
    return LossOutput(loss: loss, inside: dpo.inside, parts: parts)
}
