import TensorCore

/// The DDPM forward process: betas, alphas and their cumulative products over `T` training steps.
///
/// x_t = sqrt(abar_t) * x0 + sqrt(1 - abar_t) * eps   (METHODS.md, notation; Ho et al. 2020, eq. 4)
///
/// Betas are computed in Double and the cumulative product in Double; diffusers computes them in
/// Float32 with torch, which differs by at most a few ulps of Float32 (the DDIM golden test bounds it).
public struct NoiseSchedule: Sendable, Equatable {
    /// How betas grow with the step index.
    public enum BetaSchedule: String, Sendable, CaseIterable, Codable {
        /// beta_t = linspace(beta_start, beta_end, T)  (DDPM)
        case linear
        /// beta_t = linspace(sqrt(beta_start), sqrt(beta_end), T)^2  (Stable Diffusion's "scaled_linear")
        case scaledLinear = "scaled_linear"
    }

    public let kind: BetaSchedule
    /// beta_t for t in 0..<T.
    public let betas: [Double]
    /// abar_t = prod_{s <= t} (1 - beta_s).
    public let alphasCumprod: [Double]

    /// Number of training steps T.
    public var trainSteps: Int { betas.count }

    /// A schedule of `trainSteps` betas from `betaStart` to `betaEnd` (defaults: the DDPM paper's 1e-4 .. 0.02, T = 1000).
    public init(_ kind: BetaSchedule = .linear, trainSteps: Int = 1000,
                betaStart: Double = 1e-4, betaEnd: Double = 0.02) {
        precondition(trainSteps >= 2, "NoiseSchedule: need at least 2 training steps, got \(trainSteps)")
        precondition(0 < betaStart && betaStart <= betaEnd && betaEnd < 1,
                     "NoiseSchedule: need 0 < betaStart <= betaEnd < 1, got \(betaStart), \(betaEnd)")
        self.kind = kind
        let n = trainSteps
        func linspace(_ a: Double, _ b: Double) -> [Double] {
            (0..<n).map { a + (b - a) * Double($0) / Double(n - 1) }
        }
        switch kind {
        case .linear: betas = linspace(betaStart, betaEnd)
        case .scaledLinear: betas = linspace(betaStart.squareRoot(), betaEnd.squareRoot()).map { $0 * $0 }
        }
        var acc = 1.0
        alphasCumprod = betas.map { acc *= (1 - $0); return acc }
    }

    /// abar_t, with abar_{-1} = `final` (diffusers' `final_alpha_cumprod`; 1 with `set_alpha_to_one`).
    public func alphaBar(_ t: Int, final: Double = 1) -> Double {
        precondition(t < trainSteps, "alphaBar: timestep \(t) >= T = \(trainSteps)")
        return t >= 0 ? alphasCumprod[t] : final
    }

    /// x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps, one timestep per batch row (x0, noise: [B, ...]).
    public func addNoise(_ x0: Tensor, noise: Tensor, timesteps: [Int]) -> Tensor {
        precondition(x0.shape == noise.shape, "addNoise: x0 \(x0.shape) vs noise \(noise.shape)")
        precondition(x0.rank >= 1 && timesteps.count == x0.shape[0],
                     "addNoise: \(timesteps.count) timesteps for batch of shape \(x0.shape)")
        let per = x0.count / max(x0.shape[0], 1)
        var out = x0
        for (b, t) in timesteps.enumerated() {
            let a = Float(alphaBar(t).squareRoot()), s = Float((1 - alphaBar(t)).squareRoot())
            for i in b * per..<(b + 1) * per { out.scalars[i] = a * x0.scalars[i] + s * noise.scalars[i] }
        }
        return out
    }

    /// The x0 implied by an epsilon prediction: x0 = (x_t - sqrt(1 - abar_t) eps) / sqrt(abar_t).
    public func predictX0(sample: Tensor, epsilon: Tensor, timestep t: Int) -> Tensor {
        precondition(sample.shape == epsilon.shape, "predictX0: sample \(sample.shape) vs eps \(epsilon.shape)")
        let ab = alphaBar(t)
        let a = Float(1 / ab.squareRoot()), s = Float(((1 - ab) / ab).squareRoot())
        var out = sample
        for i in out.scalars.indices { out.scalars[i] = a * sample.scalars[i] - s * epsilon.scalars[i] }
        return out
    }
}
