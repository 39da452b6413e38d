import Autograd
import Diffusion
import Foundation
import Testing
import TensorCore
import TestSupport
@testable import Objectives

/// Finite-difference checks of every loss w.r.t. the policy's prediction, along 8 random normal directions each:
/// Richardson-extrapolated central differences (h = 2e-2 and 1e-2, Float evaluation, Double accumulation;
/// truncation O(h^4)) against <grad, d> in Double, passing when |a - n| <= rtol max(|a|, |n|) + atol
/// (TestSupport.expectDerivativesAgree). atol = 2e-6 is the floor of the Float loss's rounding over the
/// difference quotient; rtol is per loss, about 3x what its worst direction needs (measured errors beside each
/// test: absolute error over the 8 directions, |derivative| 0.001-3.6). These replace one direction at
/// |a - n| <= 0.02 max(1, |n|), which accepted 20-40% errors on derivatives of 0.05-0.1.
/// Betas are chosen so the logits are of order one (a saturated sigmoid has a vanishing gradient and
/// would check nothing).
@Suite struct LossGradientTests {
    let shape = [4, 2, 2, 2]
    var noise: Tensor { normalTensor(shape, seed: 21) }
    var ref: Tensor { Kernels.add(noise, Kernels.scale(normalTensor(shape, seed: 22), 0.3)) }
    var x: Tensor { Kernels.add(noise, Kernels.scale(normalTensor(shape, seed: 23), 0.3)) }
    var qr: Tensor { uniformTensor([2, 1, 2, 2], seed: 24) }
    var qg: Tensor { uniformTensor([2, 1, 2, 2], seed: 25) }

    func check(_ name: String, rtol: Double, sourceLocation: SourceLocation = #_sourceLocation, _ f: (Variable) -> Variable) {
        for seed in UInt64(99)..<107 {
            let (numeric, analytic) = directionalCheck(at: x, seed: seed, f)
            expectDerivativesAgree(analytic: analytic, numeric: numeric, rtol: rtol, atol: 2e-6, "\(name) direction \(seed)",
                                   sourceLocation: sourceLocation)
        }
    }

    /// Worst error 1.2e-6 (|derivative| 0.022-0.16).
    @Test func dm() { check("dm", rtol: 2e-5) { diffusionLoss(prediction: $0, noise: noise).loss } }

    /// Worst error 8.7e-7 (|derivative| 0.0014-0.086).
    @Test func patchdpo() {
        check("patchdpo", rtol: 3e-4) { patchDPOLoss(prediction: $0, noise: noise, referenceQuality: qr, generatedQuality: qg).loss }
    }

    /// Worst error 4.7e-6 (|derivative| 0.0036-0.78).
    @Test func patchdpoPref() {
        check("patchdpo-pref", rtol: 5e-4) {
            patchDPOPrefLoss(prediction: $0, reference: ref, noise: noise, referenceQuality: qr, generatedQuality: qg, beta: 10).loss
        }
    }

    /// Worst error 7.3e-6 (5.6e-6 at |derivative| 0.054; 0.054-1.7).
    @Test func diffusionDPO() {
        check("diffusion-dpo", rtol: 4e-4) { diffusionDPOLoss(prediction: $0, reference: ref, noise: noise, beta: 10).loss }
    }

    /// Worst error 4.3e-6 (|derivative| 0.058-0.41).
    @Test func dco() { check("dco", rtol: 1e-4) { dcoLoss(prediction: $0, reference: ref, noise: noise, beta: 5).loss } }

    /// Worst error 1.7e-5 (at |derivative| 1.0; 0.095-3.6).
    @Test func hgDPO() {
        let xt = normalTensor(shape, seed: 26), z = normalTensor([2, 2, 2, 2], seed: 27)
        check("hg-dpo", rtol: 1e-4) {
            hgDPOLoss(prediction: $0, reference: ref, noise: noise, noisySample: xt, timesteps: [3, 500],
                      schedule: NoiseSchedule(), stepNoise: z, beta: 10, lambdaStat: 100).loss
        }
    }
}

/// Log-sigmoid at large |u| and implicit accuracy.
@Suite struct PreferenceLogitTests {
    @Test func logSigmoidIsStableAtLargeMagnitudes() {
        let us: [Float] = [-1e30, -1e4, -100, -20, 0, 20, 100, 1e4, 1e30]
        let v = Variable(Tensor(shape: [us.count], scalars: us), requiresGrad: true)
        let y = negLogSigmoid(v)
        y.sum().backward()
        for (i, u) in us.enumerated() {
            let want = softplusNeg(Double(u)), got = Double(y.value.scalars[i])
            #expect(got.isFinite && abs(got - want) <= 1e-6 * max(1, abs(want)), "-logsig(\(u)) = \(got), want \(want)")
            // d/du -logsig(u) = -sigmoid(-u), in [-1, 0].
            let g = Double(v.grad!.scalars[i]), wantG = -1 / (1 + Foundation.exp(Double(u)))
            #expect(g.isFinite && abs(g - wantG) <= 1e-6, "gradient at \(u) = \(g), want \(wantG)")
        }
    }

    @Test func diffusionDPOStaysFiniteWhenSaturated() {
        let noise = normalTensor([2, 1, 2, 2], seed: 31)
        let far = Kernels.scale(noise, -50)           // huge errors: |u| ~ 1e7 at beta 5000
        let a = diffusionDPOLoss(prediction: Variable(far), reference: noise, noise: noise, beta: 5000)
        let b = diffusionDPOLoss(prediction: Variable(noise), reference: far, noise: noise, beta: 5000)
        #expect(a.loss.item.isFinite && b.loss.item.isFinite, "\(a.loss.item), \(b.loss.item)")
    }

    @Test func implicitAccuracyCountsPositiveLogits() {
        // Pair 0: the policy fits the winner better than the reference does (u > 0); pairs 1, 2: worse.
        let noise = Tensor(zeros: [6, 1, 1, 1])
        let pred = Tensor(shape: [6, 1, 1, 1], scalars: [0.1, 0.5, 0.5, 0.3, 0.1, 0.1])
        let ref = Tensor(shape: [6, 1, 1, 1], scalars: [0.3, 0.1, 0.1, 0.3, 0.1, 0.1])
        let out = diffusionDPOLoss(prediction: Variable(pred), reference: ref, noise: noise, beta: 1)
        // u_i = -(1/2)((p_w^2 - p_l^2) - (r_w^2 - r_l^2)).
        let u0 = -0.5 * ((0.01 - 0.09) - (0.09 - 0.09))
        let u1 = -0.5 * ((0.25 - 0.01) - (0.01 - 0.01))
        let u2 = -0.5 * ((0.25 - 0.01) - (0.01 - 0.01))
        for (a, b) in zip(out.inside!, [u0, u1, u2]) { expectClose(Double(a), b, atol: 0, rtol: 1e-6, "inside") }
        #expect(out.implicitAccuracy == 1.0 / 3.0)
    }
}
