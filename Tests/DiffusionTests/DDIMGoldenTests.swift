import Foundation
import Testing
import TensorCore
@testable import Diffusion

/// diffusers' deterministic dummy sample: arange(768) reshaped (3, 8, 8, 4), / 768, permuted to (4, 3, 8, 8).
func dummySampleDeter() -> Tensor {
    let (c, h, w, b) = (3, 8, 8, 4)
    var out = Tensor(zeros: [b, c, h, w])
    for ci in 0..<c { for y in 0..<h { for x in 0..<w { for bi in 0..<b {
        let flat = ((ci * h + y) * w + x) * b + bi
        out[[bi, ci, y, x]] = Float(flat) / Float(b * c * h * w)
    } } } }
    return out
}

@Suite struct DDIMGoldenTests {
    /// METHODS.md 9: diffusers `DDIMSchedulerTest.test_full_loop_no_noise` constants.
    @Test func fullLoopReproducesDiffusersConstants() {
        let ddim = DDIMScheduler(schedule: NoiseSchedule(.linear), clipSample: true, setAlphaToOne: true)
        var sample = dummySampleDeter()
        let steps = 10
        #expect(ddim.timesteps(steps: steps) == [900, 800, 700, 600, 500, 400, 300, 200, 100, 0])
        for t in ddim.timesteps(steps: steps) {
            var eps = sample  // fake network: sample * t / (t + 1)
            for i in eps.scalars.indices { eps.scalars[i] = sample.scalars[i] * Float(t) / Float(t + 1) }
            sample = ddim.step(epsilon: eps, timestep: t, sample: sample, steps: steps)
        }
        let sumAbs = sample.scalars.reduce(0.0) { $0 + Double(abs($1)) }
        #expect(abs(sumAbs - 172.0067) < 1e-2, "sum |x| = \(sumAbs)")
        #expect(abs(sumAbs / Double(sample.count) - 0.223967) < 1e-3, "mean |x| = \(sumAbs / 768)")
    }

    /// Whole tensors against scripts/golden_ddim.py (float64 NumPy from the DDIM paper's update, written
    /// independently of this code): the diffusers loop above (clip, eta 0, 10 steps) and a stochastic one
    /// (no clip, eta 0.5, 5 steps, the script's stored noise). Tolerance: |swift - numpy| <= 1e-6 per element
    /// (float32 arithmetic over 5-10 steps; observed maxima 1.7e-7 and 3.1e-7; a 1e-4 change to one
    /// expected value fails it).
    @Test func wholeTensorsMatchAnIndependentFloat64Reference() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/golden_ddim.json")
        let root = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: [String: Any]],
                                "golden_ddim.json: rerun scripts/golden_ddim.py")
        #expect(root.count == 2)
        for (name, c) in root.sorted(by: { $0.key < $1.key }) {
            let steps = try #require(c["steps"] as? Int), eta = try #require(c["eta"] as? Double)
            let clip = try #require(c["clip"] as? Bool), want = try #require(c["out"] as? [Double])
            let noise = try #require(c["noise"] as? [[Double]])
            let ddim = DDIMScheduler(schedule: NoiseSchedule(.linear), clipSample: clip, setAlphaToOne: true)
            #expect(ddim.timesteps(steps: steps) == (c["timesteps"] as? [Int]), "\(name)")
            var sample = dummySampleDeter()
            for (k, t) in ddim.timesteps(steps: steps).enumerated() {
                var eps = sample
                for i in eps.scalars.indices { eps.scalars[i] = sample.scalars[i] * Float(t) / Float(t + 1) }
                let z = eta > 0 ? Tensor(shape: sample.shape, scalars: noise[k].map(Float.init)) : nil
                sample = ddim.step(epsilon: eps, timestep: t, sample: sample, steps: steps, eta: Float(eta), noise: z)
            }
            #expect(sample.count == want.count)
            let worst = zip(sample.scalars, want).map { abs(Double($0) - $1) }.max() ?? .infinity
            #expect(worst <= 1e-6, "\(name): max |swift - numpy| = \(worst)")
        }
    }

    @Test func spacings() {
        let s = DDIMScheduler(spacing: .trailing)
        #expect(s.timesteps(steps: 10) == [999, 899, 799, 699, 599, 499, 399, 299, 199, 99])
        let l = DDIMScheduler(spacing: .linspace)
        #expect(l.timesteps(steps: 4) == [999, 666, 333, 0])
        #expect(DDIMScheduler(stepsOffset: 1).timesteps(steps: 4) == [751, 501, 251, 1])
        // Half-integer timesteps round to even as diffusers' np.round does (T / 16 = 62.5): numpy's
        // np.round(np.arange(1000, 0, -1000 / 16)).astype(np.int64) - 1 (rounding away from zero reads 812, 562, 312, 62).
        #expect(s.timesteps(steps: 16) == [999, 937, 874, 811, 749, 687, 624, 561, 499, 437, 374, 311, 249, 187, 124, 61])
        // np.linspace(0, 999, 6).round()[::-1]
        #expect(l.timesteps(steps: 6) == [999, 799, 599, 400, 200, 0])
    }

    /// With eta = 1 and a perfect epsilon, DDIM's sigma equals the DDPM posterior std when stepping by one.
    @Test func etaOneSingleStepMatchesDDPMPosteriorVariance() {
        let sched = NoiseSchedule(.linear)
        let ddim = DDIMScheduler(schedule: sched, clipSample: false)
        let t = 500
        let x = Tensor(zeros: [1, 1, 1, 1]), eps = Tensor(zeros: [1, 1, 1, 1])
        let z = Tensor(repeating: 1, shape: [1, 1, 1, 1])
        let stepped = ddim.step(epsilon: eps, timestep: t, sample: x, steps: 1000, eta: 1, noise: z)
        let ddpmStd = sched.posteriorCoefficients(t).std
        #expect(abs(stepped.scalars[0] - ddpmStd) < 1e-6, "\(stepped.scalars[0]) vs \(ddpmStd)")
    }
}
