import TensorCore

/// DDIM sampling (Song et al. 2021, eq. 12), with diffusers' `DDIMScheduler` conventions so that its
/// published test constants reproduce (METHODS.md 9). The scheduler never sees the network: the sampling
/// loop calls the model and hands its epsilon prediction to `step`.
public struct DDIMScheduler: Sendable {
    /// How the inference timesteps are spread over the training steps (diffusers' `timestep_spacing`).
    public enum Spacing: String, Sendable, CaseIterable, Codable {
        /// t_i = i * (T / n) + offset, i = n-1 ... 0  (e.g. 900, 800, ..., 0 for T = 1000, n = 10)
        case leading
        /// t_i = round(T - i * T / n) - 1  (ends at T - 1; better at few steps); halves round to even, as np.round
        case trailing
        /// t_i = round(linspace(0, T - 1, n)), reversed
        case linspace
    }

    public let schedule: NoiseSchedule
    /// Clamp the predicted x0 to [-clipRange, clipRange] (diffusers `clip_sample`); images live in [-1, 1].
    public var clipSample: Bool
    public var clipRange: Float
    /// abar used after the last step (`set_alpha_to_one` -> 1, otherwise abar_0).
    public var finalAlphaBar: Double
    public var spacing: Spacing
    public var stepsOffset: Int

    public init(schedule: NoiseSchedule = NoiseSchedule(), clipSample: Bool = true, clipRange: Float = 1,
                setAlphaToOne: Bool = true, spacing: Spacing = .leading, stepsOffset: Int = 0) {
        self.schedule = schedule
        self.clipSample = clipSample
        self.clipRange = clipRange
        self.finalAlphaBar = setAlphaToOne ? 1 : schedule.alphasCumprod[0]
        self.spacing = spacing
        self.stepsOffset = stepsOffset
    }

    /// The `steps` inference timesteps, in the order the sampler visits them (descending).
    public func timesteps(steps: Int) -> [Int] {
        let T = schedule.trainSteps
        precondition(steps >= 1 && steps <= T, "DDIM: \(steps) inference steps for T = \(T)")
        switch spacing {
        case .leading:
            let ratio = T / steps
            return (0..<steps).reversed().map { $0 * ratio + stepsOffset }
        case .trailing:
            let ratio = Double(T) / Double(steps)
            return (0..<steps).map { Int((Double(T) - Double($0) * ratio).rounded(.toNearestOrEven)) - 1 }
        case .linspace:
            return (0..<steps).reversed().map {
                Int((Double(T - 1) * Double($0) / Double(max(steps - 1, 1))).rounded(.toNearestOrEven))
            }
        }
    }

    /// One DDIM update x_t -> x_{t_prev}, t_prev = t - T / steps (diffusers' rule for every spacing).
    ///
    /// 1. x0_hat = (x_t - sqrt(1 - abar_t) eps) / sqrt(abar_t), clipped if `clipSample`.
    /// 2. sigma_t = eta * sqrt((1 - abar_prev) / (1 - abar_t) * (1 - abar_t / abar_prev)).
    /// 3. x_prev = sqrt(abar_prev) x0_hat + sqrt(1 - abar_prev - sigma_t^2) eps + sigma_t z.
    /// `noise` (z) is required when eta > 0 and must have the sample's shape.
    public func step(epsilon: Tensor, timestep t: Int, sample: Tensor, steps: Int,
                     eta: Float = 0, noise: Tensor? = nil) -> Tensor {
        precondition(epsilon.shape == sample.shape, "DDIM step: eps \(epsilon.shape) vs sample \(sample.shape)")
        precondition(eta == 0 || noise?.shape == sample.shape,
                     "DDIM step: eta \(eta) needs noise of shape \(sample.shape), got \(noise?.shape ?? [])")
        let prev = t - schedule.trainSteps / steps
        let abT = schedule.alphaBar(t), abPrev = schedule.alphaBar(prev, final: finalAlphaBar)
        let variance = (1 - abPrev) / (1 - abT) * (1 - abT / abPrev)
        let sigma = Double(eta) * variance.squareRoot()
        let sqrtAbT = Float(abT.squareRoot()), sqrtOneMinusAbT = Float((1 - abT).squareRoot())
        let cX0 = Float(abPrev.squareRoot())
        let cEps = Float(max(1 - abPrev - sigma * sigma, 0).squareRoot())
        let sigmaF = Float(sigma)
        var out = sample
        sample.scalars.withUnsafeBufferPointer { x in
            epsilon.scalars.withUnsafeBufferPointer { e in
                out.scalars.withUnsafeMutableBufferPointer { o in
                    for i in 0..<o.count {
                        var x0 = (x[i] - sqrtOneMinusAbT * e[i]) / sqrtAbT
                        if clipSample { x0 = min(max(x0, -clipRange), clipRange) }
                        o[i] = cX0 * x0 + cEps * e[i]
                    }
                }
            }
        }
        if let z = noise, sigma > 0 {
            for i in out.scalars.indices { out.scalars[i] += sigmaF * z.scalars[i] }
        }
        return out
    }
}
