import TensorCore

extension NoiseSchedule {
    /// One ancestral DDPM reverse step x_t -> x_{t-1} from an epsilon prediction (Ho et al. 2020, eq. 6-7),
    /// used by HG-DPO's statistic-matching loss (METHODS.md 5) and by ancestral sampling.
    ///
    /// x0_hat = (x_t - sqrt(1 - abar_t) eps) / sqrt(abar_t)
    /// mean   = sqrt(abar_{t-1}) beta_t / (1 - abar_t) * x0_hat + sqrt(alpha_t) (1 - abar_{t-1}) / (1 - abar_t) * x_t
    /// var    = beta_t (1 - abar_{t-1}) / (1 - abar_t)
    /// x_{t-1} = mean + sqrt(var) z   (z = nil gives the posterior mean; at t = 0 the mean is x0_hat)
    /// No clipping: the loss differentiates through the same formula in its own graph.
    public func posteriorStep(epsilon: Tensor, timestep t: Int, sample: Tensor, noise: Tensor? = nil) -> Tensor {
        precondition(epsilon.shape == sample.shape, "posteriorStep: eps \(epsilon.shape) vs sample \(sample.shape)")
        let c = posteriorCoefficients(t)
        var out = sample
        for i in out.scalars.indices {
            out.scalars[i] = c.sample * sample.scalars[i] + c.epsilon * epsilon.scalars[i]
        }
        if let z = noise, c.std > 0 {
            precondition(z.shape == sample.shape, "posteriorStep: noise \(z.shape) vs sample \(sample.shape)")
            for i in out.scalars.indices { out.scalars[i] += c.std * z.scalars[i] }
        }
        return out
    }

    /// The posterior mean written as a linear map of (x_t, eps): mean = sample * x_t + epsilon * eps,
    /// and the posterior standard deviation, so autograd code can apply the step with two scalings.
    public func posteriorCoefficients(_ t: Int) -> (sample: Float, epsilon: Float, std: Float) {
        precondition(t >= 0 && t < trainSteps, "posteriorCoefficients: timestep \(t) outside 0..<\(trainSteps)")
        let abT = alphaBar(t), abPrev = alphaBar(t - 1, final: 1), beta = betas[t]
        let cX0 = abPrev.squareRoot() * beta / (1 - abT)
        let cXt = (1 - beta).squareRoot() * (1 - abPrev) / (1 - abT)
        // x0_hat = x_t / sqrt(abT) - sqrt(1 - abT) / sqrt(abT) * eps
        let onSample = cX0 / abT.squareRoot() + cXt
        let onEps = -cX0 * ((1 - abT) / abT).squareRoot()
        let variance = t == 0 ? 0 : beta * (1 - abPrev) / (1 - abT)
        return (Float(onSample), Float(onEps), Float(variance.squareRoot()))
    }
}
