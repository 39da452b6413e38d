import Autograd
import Diffusion
import Foundation
import Testing
import TensorCore
@testable import Objectives

/// Finite-difference checks of every loss w.r.t. the policy's prediction: central difference along a
/// random direction (h = 1e-2, Float evaluation, Double accumulation), relative tolerance 2e-2.
/// Betas are chosen so the logits are of order one (a saturated sigmoid has a vanishing gradient and
/// would check nothing).
@Suite struct LossGradientTests {
    let shape = [4, 2, 2, 2]
    var noise: Tensor { normalTensor(shape, seed: 21) }
    var ref: Tensor { Kernels.add(noise, Kernels.scale(normalTensor(shape, seed: 22), 0.3)) }
    var x: Tensor { Kernels.add(noise, Kernels.scale(normalTensor(shape, seed: 23), 0.3)) }
    var qr: Tensor { uniformTensor([2, 1, 2, 2], seed: 24) }
    var qg: Tensor { uniformTensor([2, 1, 2, 2], seed: 25) }

    func check(_ name: String, _ f: (Variable) -> Variable) {
        let (numeric, analytic) = directionalCheck(at: x, f)
        #expect(abs(analytic) > 1e-4, "\(name): gradient along the direction is ~0 (\(analytic)); the check would be vacuous")
        expectClose(numeric, analytic, tol: 2e-2, "\(name) directional derivative")
    }

    @Test func dm() { check("dm") { diffusionLoss(prediction: $0, noise: noise).loss } }

    @Test func patchdpo() {
        check("patchdpo") { patchDPOLoss(prediction: $0, noise: noise, referenceQuality: qr, generatedQuality: qg).loss }
    }

    @Test func patchdpoPref() {
        check("patchdpo-pref") {
            patchDPOPrefLoss(prediction: $0, reference: ref, noise: noise, referenceQuality: qr, generatedQuality: qg, beta: 10).loss
        }
    }

    @Test func diffusionDPO() {
        check("diffusion-dpo") { diffusionDPOLoss(prediction: $0, reference: ref, noise: noise, beta: 10).loss }
    }

    @Test func dco() { check("dco") { dcoLoss(prediction: $0, reference: ref, noise: noise, beta: 5).loss } }

    @Test func hgDPO() {
        let xt = normalTensor(shape, seed: 26), z = normalTensor([2, 2, 2, 2], seed: 27)
        check("hg-dpo") {
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
        for (a, b) in zip(out.inside!, [u0, u1, u2]) { expectClose(Double(a), b, tol: 1e-6, "inside") }
        #expect(out.implicitAccuracy == 1.0 / 3.0)
    }
}
