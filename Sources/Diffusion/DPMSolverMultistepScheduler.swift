import Foundation
import TensorCore

/// DPM-Solver++ (2M) (Lu et al. 2022, "DPM-Solver++: Fast Solver for Guided Sampling of Diffusion Probabilistic
/// Models", Algorithm 2), with diffusers' `DPMSolverMultistepScheduler` conventions: algorithm_type
/// "dpmsolver++", solver_order 2, solver_type "midpoint", lower_order_final, epsilon prediction,
/// final_sigmas_type "zero" by default. Deterministic (no eta). Like `DDIMScheduler` it never sees the
/// network; unlike it, it keeps one step of history (the previous data prediction), so `step` is mutating
/// and a scheduler value serves one chain (copy it for another).
///
/// On the schedule: alpha_t = sqrt(abar_t), sigma_t = sqrt(1 - abar_t), lambda_t = log(alpha_t / sigma_t).
/// Coefficients are computed in Double, elementwise work in Float (as DDIM's).
///
/// x0 clipping: diffusers' DPM++ default is `thresholding = False`. `clipSample` clamps the data prediction
/// to [-clipRange, clipRange] like DDIM's `clip_sample`; with clipRange 1 this is exactly diffusers'
/// `thresholding = True, sample_max_value = 1` (its dynamic threshold s is clamped to [1, sample_max_value],
/// so s = 1 and the rule is a clip to [-1, 1]). The sampler turns it on in pixel space and off in latent
/// space, as it does for DDIM, so the two schedulers see the same x0 constraint. The clipped prediction is
/// what enters the history (diffusers stores the thresholded output too). Unclipped, the first-order step is
/// DDIM's with eta 0; clipped, it is DDIM's with diffusers' `use_clipped_model_output` (the direction term
/// uses the eps implied by the clipped x0), whereas `DDIMScheduler` keeps the network's eps there.
public struct DPMSolverMultistepScheduler: SamplingScheduler {
    /// Where the chain ends after the last timestep (diffusers' `final_sigmas_type`).
    public enum FinalSigma: String, Sendable, CaseIterable {
        /// sigma = 0, alpha = 1: the last update returns the data prediction (always first order).
        case zero
        /// t = 0 (alpha = sqrt(abar_0)); diffusers' older behaviour, kept to reproduce its published test constant.
        case sigmaMin = "sigma_min"
    }

    /// The multistep history: the data prediction made at `timestep` (the previous step).
    public struct History: Sendable {
        public let x0: Tensor
        public let timestep: Int
    }

    public let schedule: NoiseSchedule
    /// Clamp the data prediction to [-clipRange, clipRange] (see the type's doc); images live in [-1, 1].
    public var clipSample: Bool
    public var clipRange: Float
    /// The timestep spacing, named as DDIM's (diffusers' `timestep_spacing`; DPM's own formulas, see `timesteps`).
    public var spacing: DDIMScheduler.Spacing
    public var stepsOffset: Int
    public var finalSigma: FinalSigma
    /// diffusers' `lower_order_final`: the last step is first order when fewer than 15 steps. With a zero
    /// final sigma the last step is first order whatever this says (the second-order step has no limit there).
    public var lowerOrderFinal: Bool
    /// Set by `step`; nil before the first step of a chain.
    public private(set) var history: History?

    public init(schedule: NoiseSchedule = NoiseSchedule(), clipSample: Bool = true, clipRange: Float = 1,
                spacing: DDIMScheduler.Spacing = .trailing, stepsOffset: Int = 0, finalSigma: FinalSigma = .zero,
                lowerOrderFinal: Bool = true) {
        self.schedule = schedule
        self.clipSample = clipSample
        self.clipRange = clipRange
        self.spacing = spacing
        self.stepsOffset = stepsOffset
        self.finalSigma = finalSigma
        self.lowerOrderFinal = lowerOrderFinal
    }

    /// The `steps` inference timesteps, descending, as diffusers' DPMSolverMultistepScheduler places them
    /// (its leading and linspace differ from DDIM's: both place n + 1 points and drop the lowest; trailing is
    /// DDIM's). Rounding is NumPy's (half to even). T = training steps:
    /// - leading:  k * (T / (n + 1)) + offset, k = n ... 1, integer division (830, 664, 498, 332, 166 for n = 5)
    /// - trailing: round(T - k * T / n) - 1, k = 0 ... n - 1                    (999, 799, 599, 399, 199)
    /// - linspace: round(k * (T - 1) / n), k = n ... 1                           (999, 799, 599, 400, 200)
    /// `steps` must be below T (with n = T leading and linspace would repeat timesteps).
    public func timesteps(steps n: Int) -> [Int] {
        let T = schedule.trainSteps
        precondition(n >= 1 && n < T, "DPM-Solver++: \(n) inference steps for T = \(T) (need 1...\(T - 1))")
        let ts: [Int]
        switch spacing {
        case .leading:
            let ratio = T / (n + 1)
            ts = (1...n).reversed().map { $0 * ratio + stepsOffset }
        case .trailing:
            let ratio = Double(T) / Double(n)
            ts = (0..<n).map { Int((Double(T) - Double($0) * ratio).rounded(.toNearestOrEven)) - 1 }
        case .linspace:
            ts = (1...n).reversed().map { Int((Double(T - 1) * Double($0) / Double(n)).rounded(.toNearestOrEven)) }
        }
        precondition(zip(ts, ts.dropFirst()).allSatisfy { $0 > $1 } && ts.last! >= 0 && ts[0] < T,
                     "DPM-Solver++: \(spacing) spacing gives timesteps \(ts) for \(n) steps, not strictly descending in 0..<\(T)")
        return ts
    }

    /// (alpha, sigma, lambda) at timestep t, or at the chain's end for nil.
    private func point(_ t: Int?) -> (alpha: Double, sigma: Double, lambda: Double) {
        let ab: Double
        switch (t, finalSigma) {
        case let (t?, _): ab = schedule.alphaBar(t)
        case (nil, .zero): return (1, 0, .infinity)
        case (nil, .sigmaMin): ab = schedule.alphaBar(0)
        }
        let a = ab.squareRoot(), s = (1 - ab).squareRoot()
        return (a, s, log(a) - log(s))
    }

    /// One update x_s -> x_t, s = `timestep`, t the next timestep of `timesteps(steps:)` (or the end).
    ///
    /// 1. x0 = (x_s - sigma_s eps) / alpha_s (the data prediction, eq. 4 of the paper), clipped if `clipSample`.
    /// 2. h = lambda_t - lambda_s.
    /// 3. First order (the chain's first step, the last step with a zero final sigma or `lowerOrderFinal`):
    ///    x_t = (sigma_t / sigma_s) x_s - alpha_t (e^{-h} - 1) x0            (Algorithm 2, line 4; = DDIM, eta 0)
    ///    Second order, with the previous step's x0' made at s' (r = (lambda_s - lambda_s') / h):
    ///    D = (1 + 1 / (2r)) x0 - 1 / (2r) x0'                                (line 8; diffusers' midpoint
    ///    x_t = (sigma_t / sigma_s) x_s - alpha_t (e^{-h} - 1) D               D0 + D1 / 2, D1 = (x0 - x0') / r)
    /// At a zero final sigma sigma_t / sigma_s = 0 and e^{-h} = 0, so x_t = x0.
    /// `eta` must be 0 (checked by `SamplingOptions.validate` before sampling); `noise` is ignored.
    public mutating func step(epsilon: Tensor, timestep t: Int, sample: Tensor, steps: Int,
                              eta: Float = 0, noise: Tensor? = nil) -> Tensor {
        precondition(epsilon.shape == sample.shape, "DPM-Solver++ step: eps \(epsilon.shape) vs sample \(sample.shape)")
        precondition(eta == 0, "DPM-Solver++ step: eta \(eta); the solver is deterministic (eta is DDIM's)")
        let ts = timesteps(steps: steps)
        guard let i = ts.firstIndex(of: t) else {
            preconditionFailure("DPM-Solver++ step: timestep \(t) is not in the \(steps)-step schedule \(ts)")
        }
        // The history must be this chain's previous step (a chain restarted at its first step drops it).
        var previous: History? = nil
        if i > 0, let h = history {
            precondition(h.timestep == ts[i - 1], "DPM-Solver++ step at t = \(t) after a step at t = \(h.timestep), "
                         + "not \(ts[i - 1]): one scheduler value per chain")
            previous = h
        }
        let last = i == ts.count - 1
        let firstOrder = previous == nil || (last && (finalSigma == .zero || (lowerOrderFinal && steps < 15)))
        let s = point(t), e = point(last ? nil : ts[i + 1])
        // x_t = cX x_s + c0 x0 + c1 x0'.
        let b = e.sigma == 0 ? e.alpha : -e.alpha * expm1(-(e.lambda - s.lambda))   // -alpha_t (e^{-h} - 1)
        let cX = Float(e.sigma / s.sigma)
        var c0 = Float(b), c1: Float = 0
        if !firstOrder, let p = previous {
            let r = (s.lambda - point(p.timestep).lambda) / (e.lambda - s.lambda)
            c0 = Float(b * (1 + 1 / (2 * r)))
            c1 = Float(-b / (2 * r))
        }
        let invAlpha = Float(1 / s.alpha), sigmaOverAlpha = Float(s.sigma / s.alpha)
        var x0 = sample, out = sample
        let prev = previous?.x0.scalars ?? []
        sample.scalars.withUnsafeBufferPointer { x in
            epsilon.scalars.withUnsafeBufferPointer { eps in
                x0.scalars.withUnsafeMutableBufferPointer { d in
                    out.scalars.withUnsafeMutableBufferPointer { o in
                        for k in 0..<o.count {
                            var v = invAlpha * x[k] - sigmaOverAlpha * eps[k]
                            if clipSample { v = min(max(v, -clipRange), clipRange) }
                            d[k] = v
                            o[k] = cX * x[k] + c0 * v + (c1 == 0 ? 0 : c1 * prev[k])
                        }
                    }
                }
            }
        }
        history = History(x0: x0, timestep: t)
        return out
    }
}
