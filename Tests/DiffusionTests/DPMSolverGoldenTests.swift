import Foundation
import Testing
import TensorCore
@testable import Diffusion

/// DPM-Solver++ (2M) against scripts/golden_dpmpp.py: float64 NumPy written from the paper's Algorithm 2
/// (lambda = log(alpha / sigma)), independently of this code, on NoiseSchedule's default schedule (linear
/// betas 1e-4 .. 0.02, T = 1000). The script checks itself against diffusers' published constant.
@Suite struct DPMSolverGoldenTests {
    /// The script's x ([1, 2, 2, 2]) and fake network eps_i(x, t) = x_i t / (t + 1) + 0.05 sin(0.01 t + i).
    static let x: [Float] = [-2.5, -1.5, -0.75, -0.2, 0.1, 0.6, 1.3, 2.2]
    static func fakeEpsilon(_ x: Tensor, _ t: Int) -> Tensor {
        var e = x
        for i in e.scalars.indices {
            e.scalars[i] = x.scalars[i] * Float(t) / Float(t + 1) + Float(0.05 * sin(0.01 * Double(t) + Double(i)))
        }
        return e
    }

    /// Runs `steps` steps from the script's x (the first `stopAfter` only, when given).
    static func run(_ s: DPMSolverMultistepScheduler, steps: Int, stopAfter: Int? = nil) -> Tensor {
        var s = s
        var x = Tensor(shape: [1, 2, 2, 2], scalars: Self.x)
        for t in s.timesteps(steps: steps).prefix(stopAfter ?? steps) {
            x = s.step(epsilon: fakeEpsilon(x, t), timestep: t, sample: x, steps: steps)
        }
        return x
    }

    /// Tolerance: |swift - numpy| <= 1e-5 max(1, |numpy|) per element (float32 arithmetic on coefficients
    /// computed in Double, over 5-10 steps whose early data predictions reach |x0| ~ 40 before clipping;
    /// observed worst 3.0e-7).
    static func expectClose(_ got: Tensor, _ want: [Double], _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(got.count == want.count, "\(what): \(got.count) values, want \(want.count)", sourceLocation: sourceLocation)
        var worst = 0.0, at = -1
        for (i, (g, w)) in zip(got.scalars, want).enumerated() {
            let e = abs(Double(g) - w) / max(1, abs(w))
            if e > worst { worst = e; at = i }
        }
        #expect(worst <= 1e-5, "\(what): worst scaled error \(worst) at index \(at): \(got.scalars[max(at, 0)]) vs \(want[max(at, 0)])",
                sourceLocation: sourceLocation)
    }

    @Test func timestepsOfEverySpacingMatchDiffusers() {
        func ts(_ sp: DDIMScheduler.Spacing, _ n: Int) -> [Int] { DPMSolverMultistepScheduler(spacing: sp).timesteps(steps: n) }
        #expect(ts(.trailing, 5) == [999, 799, 599, 399, 199])
        #expect(ts(.leading, 5) == [830, 664, 498, 332, 166])
        #expect(ts(.linspace, 5) == [999, 799, 599, 400, 200])
        #expect(ts(.trailing, 10) == [999, 899, 799, 699, 599, 499, 399, 299, 199, 99])
        #expect(ts(.leading, 10) == [900, 810, 720, 630, 540, 450, 360, 270, 180, 90])
        #expect(ts(.linspace, 10) == [999, 899, 799, 699, 599, 500, 400, 300, 200, 100])
        #expect(ts(.trailing, 25) == [999, 959, 919, 879, 839, 799, 759, 719, 679, 639, 599, 559, 519, 479, 439, 399, 359, 319,
                                      279, 239, 199, 159, 119, 79, 39])
        // At 20 and 25 trailing steps the two schedulers visit the same timesteps.
        for n in [20, 25] { #expect(ts(.trailing, n) == DDIMScheduler(spacing: .trailing).timesteps(steps: n)) }
    }

    @Test func wholeChainsMatchTheFloat64Reference() {
        let noClip = DPMSolverMultistepScheduler(clipSample: false, spacing: .trailing)
        Self.expectClose(Self.run(noClip, steps: 5, stopAfter: 1),
                         [-2.37306103, -1.24868454, -0.612729795, -0.307001376, -0.154857511, 0.432920736, 1.37770827, 2.45735753],
                         "trailing5 after 1 step")
        Self.expectClose(Self.run(noClip, steps: 5, stopAfter: 2),
                         [-2.76251227, -1.70115156, -0.693944758, 0.0676814526, 0.336107791, 0.58550291, 1.04319368, 1.92764875],
                         "trailing5 after 2 steps (the first second-order update)")
        Self.expectClose(Self.run(noClip, steps: 5),
                         [-1.02334303, -0.62020843, -0.283288637, -0.0334303317, 0.0776617816, 0.231402917, 0.466032529, 0.817256917],
                         "trailing5_noclip")
        Self.expectClose(Self.run(DPMSolverMultistepScheduler(clipSample: true, spacing: .trailing), steps: 10),
                         [-1, -0.753054844, -0.35097329, -0.0536480896, 0.0810448929, 0.285000202, 0.586803863, 1],
                         "trailing10_clip")
        Self.expectClose(Self.run(DPMSolverMultistepScheduler(clipSample: false, spacing: .linspace), steps: 5),
                         [-1.02223593, -0.61889804, -0.281901191, -0.0326525209, 0.077402089, 0.230151204, 0.464441997, 0.815866199],
                         "linspace5_noclip")
    }

    /// diffusers' DPMSolverMultistepSchedulerTest.test_full_loop_no_noise: linspace, 10 steps, lower_order_final
    /// False, final sigma at t = 0, eps = x t / (t + 1) on the dummy sample: mean |x| = 0.3301 (published,
    /// 4 digits); the script's float64 loop gives 0.33014698.
    @Test func diffusersFullLoopConstant() {
        var s = DPMSolverMultistepScheduler(clipSample: false, spacing: .linspace, finalSigma: .sigmaMin, lowerOrderFinal: false)
        var x = dummySampleDeter()
        for t in s.timesteps(steps: 10) {
            var eps = x
            for i in eps.scalars.indices { eps.scalars[i] = x.scalars[i] * Float(t) / Float(t + 1) }
            x = s.step(epsilon: eps, timestep: t, sample: x, steps: 10)
        }
        let mean = x.scalars.reduce(0.0) { $0 + Double(abs($1)) } / Double(x.count)
        #expect(abs(mean - 0.3301) < 1e-3, "mean |x| = \(mean)")
        #expect(abs(mean - 0.33014697787695313) < 1e-6, "mean |x| = \(mean) vs the float64 reference")
    }

    /// The first step of a chain (and a 1-step chain, which is only a first step) is the first-order
    /// DPM-Solver++ update, which is DDIM's with eta 0: x_t = alpha_t x0 + sigma_t eps. With x0 clipped the
    /// two part: the solver's update is alpha_t x0c + sigma_t (x_s - alpha_s x0c) / sigma_s (the epsilon
    /// implied by the clipped x0, diffusers' DDIM `use_clipped_model_output = True`), while DDIM here, as
    /// diffusers' by default, keeps the network's eps in the direction term; a 1-step chain ends at x0c in both.
    /// Tolerance 1e-5 max(1, |x|): the two compute x0 = (x - sigma eps) / alpha in different float32 orders, and
    /// at t = 999 alpha = 0.0064 amplifies one rounding of x - sigma eps (|x0| ~ 8 here).
    @Test func firstStepIsDDIMWithEtaZero() {
        let x = Tensor(shape: [1, 2, 2, 2], scalars: Self.x)
        let eps = Self.fakeEpsilon(x, 999)
        func close(_ a: Tensor, _ b: Tensor) -> Bool {
            zip(a.scalars, b.scalars).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($1)) }
        }
        for clip in [false, true] {
            // 1 step: DPM ends at sigma 0, DDIM with set_alpha_to_one at abar = 1; both return x0.
            var dpm = DPMSolverMultistepScheduler(clipSample: clip, spacing: .trailing)
            let ddim1 = DDIMScheduler(clipSample: clip, setAlphaToOne: true, spacing: .trailing)
            #expect(dpm.timesteps(steps: 1) == [999] && ddim1.timesteps(steps: 1) == [999])
            let a = dpm.step(epsilon: eps, timestep: 999, sample: x, steps: 1)
            let b = ddim1.step(epsilon: eps, timestep: 999, sample: x, steps: 1)
            #expect(close(a, b), "1 step, clip \(clip): max |dpm - ddim| \(maxDiff(a, b))")
            // The first of 5 steps: 999 -> 799 in both.
            var dpm5 = DPMSolverMultistepScheduler(clipSample: clip, spacing: .trailing)
            let ddim5 = DDIMScheduler(clipSample: clip, setAlphaToOne: false, spacing: .trailing)
            let c = dpm5.step(epsilon: eps, timestep: 999, sample: x, steps: 5)
            if clip {
                let sch = NoiseSchedule()
                let (aS, sS) = (sch.alphaBar(999).squareRoot(), (1 - sch.alphaBar(999)).squareRoot())
                let (aT, sT) = (sch.alphaBar(799).squareRoot(), (1 - sch.alphaBar(799)).squareRoot())
                var want = x
                for i in want.scalars.indices {
                    let x0 = min(max((Double(x.scalars[i]) - sS * Double(eps.scalars[i])) / aS, -1), 1)
                    want.scalars[i] = Float(aT * x0 + sT * (Double(x.scalars[i]) - aS * x0) / sS)
                }
                #expect(close(c, want), "first of 5 steps, clip: max |dpm - clipped-eps DDIM| \(maxDiff(c, want))")
                let d = ddim5.step(epsilon: eps, timestep: 999, sample: x, steps: 5)
                #expect(maxDiff(c, d) > 1e-2, "DDIM keeps the network's eps when x0 is clipped")
            } else {
                let d = ddim5.step(epsilon: eps, timestep: 999, sample: x, steps: 5)
                #expect(close(c, d), "first of 5 steps: max |dpm - ddim| \(maxDiff(c, d))")
            }
            // The second step is not DDIM's: the history enters.
            let e = dpm5.step(epsilon: Self.fakeEpsilon(c, 799), timestep: 799, sample: c, steps: 5)
            let f = ddim5.step(epsilon: Self.fakeEpsilon(c, 799), timestep: 799, sample: c, steps: 5)
            #expect(maxDiff(e, f) > 1e-3, "the second step must be second order")
        }
    }

    /// A copied scheduler carries its own history: two chains stepped alternately, each with its copy, give
    /// what each gives alone.
    @Test func copiesKeepSeparateHistories() {
        let s = DPMSolverMultistepScheduler(clipSample: false, spacing: .trailing)
        var a = s, b = s
        var xa = Tensor(shape: [1, 2, 2, 2], scalars: Self.x)
        var xb = Tensor(shape: [1, 2, 2, 2], scalars: Self.x.map { -0.5 * $0 })
        for t in s.timesteps(steps: 5) {
            xa = a.step(epsilon: Self.fakeEpsilon(xa, t), timestep: t, sample: xa, steps: 5)
            xb = b.step(epsilon: Self.fakeEpsilon(xb, t), timestep: t, sample: xb, steps: 5)
        }
        #expect(maxDiff(xa, Self.run(s, steps: 5)) == 0)
        #expect(a.history?.timestep == 199 && b.history?.timestep == 199)
    }
}

private func maxDiff(_ a: Tensor, _ b: Tensor) -> Float {
    zip(a.scalars, b.scalars).map { abs($0 - $1) }.max() ?? 0
}
