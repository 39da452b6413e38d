import Autograd
import Diffusion
import Foundation
import Testing
import TensorCore
import TestSupport
@testable import Objectives

/// Each loss against its formula evaluated independently in Double on tiny tensors
/// (B = 2 pairs, rows stacked [first; second], C = 2, H = 1, W = 3).
@Suite struct LossValueTests {
    let shape = [4, 2, 1, 3]
    var noise: Tensor { normalTensor(shape, seed: 1) }
    /// Predictions near the noise so beta = 5000 gives logits of order one.
    func near(_ seed: UInt64, _ s: Float = 0.02) -> Tensor { Kernels.add(noise, Kernels.scale(normalTensor(shape, seed: seed), s)) }

    @Test func dmIsMeanSquaredError() {
        let pred = normalTensor(shape, seed: 2)
        let want = rowMSE(pred, noise, rows: 4).reduce(0, +) / 4
        let got = diffusionLoss(prediction: Variable(pred), noise: noise)
        expectClose(Double(got.loss.item), want, atol: 0, rtol: 5e-7, "dm")
        #expect(got.implicitAccuracy == nil)
    }

    @Test func diffusionDPOMatchesFormula() {
        let pred = near(2), ref = near(3), beta = 5000.0
        let et = rowMSE(pred, noise, rows: 4), er = rowMSE(ref, noise, rows: 4)
        let u: [Double] = (0..<2).map { (i: Int) -> Double in -(beta / 2) * ((et[i] - et[i + 2]) - (er[i] - er[i + 2])) }
        let want = u.map(softplusNeg).reduce(0, +) / 2
        let got = diffusionDPOLoss(prediction: Variable(pred), reference: ref, noise: noise, beta: Float(beta))
        #expect(u.contains { abs($0) > 0.05 }, "fixture must give non-trivial logits: \(u)")
        expectClose(Double(got.loss.item), want, atol: 0, rtol: 1e-6, "diffusion-dpo loss")
        for (a, b) in zip(got.inside!, u) { expectClose(Double(a), b, atol: 0, rtol: 1e-6, "diffusion-dpo inside") }
    }

    @Test func dcoMatchesFormula() {
        let pred = near(4), ref = near(5), beta = 1000.0
        let et = rowMSE(pred, noise, rows: 4), er = rowMSE(ref, noise, rows: 4)
        // The DCO code's reduction: batch-mean MSE of each model, then one log-sigmoid.
        let u = -beta * (et.reduce(0, +) / 4 - er.reduce(0, +) / 4)
        let want = softplusNeg(u)
        let perRowThenMean = (0..<4).map { softplusNeg(-beta * (et[$0] - er[$0])) }.reduce(0, +) / 4
        #expect(abs(want - perRowThenMean) > 1e-3, "fixture must tell the two reductions apart: \(want) vs \(perRowThenMean)")
        let got = dcoLoss(prediction: Variable(pred), reference: ref, noise: noise, beta: Float(beta))
        expectClose(Double(got.loss.item), want, atol: 0, rtol: 1e-6, "dco")
        expectClose(got.parts["dco_logit"]!, u, atol: 0, rtol: 1e-6, "dco logit")
    }

    @Test func patchDPOWeightedReconstruction() {
        let pred = normalTensor(shape, seed: 6)
        let qr = uniformTensor([2, 1, 1, 3], seed: 7), qg = uniformTensor([2, 1, 1, 3], seed: 8)
        var acc = 0.0
        for r in 0..<4 { for c in 0..<2 { for x in 0..<3 {
            let pair = r % 2, w = r < 2 ? 1 - Double(qr[[pair, 0, 0, x]]) : Double(qg[[pair, 0, 0, x]])
            let d = Double(pred[[r, c, 0, x]]) - Double(noise[[r, c, 0, x]])
            acc += w * d * d
        } } }
        let want = acc / Double(4 * 2 * 3)
        let got = patchDPOLoss(prediction: Variable(pred), noise: noise, referenceQuality: qr, generatedQuality: qg)
        expectClose(Double(got.loss.item), want, atol: 0, rtol: 5e-7, "patchdpo")
    }

    @Test func patchDPOPrefMatchesFormula() {
        let pred = near(9), ref = near(10), beta = 5000.0
        let qr = uniformTensor([2, 1, 1, 3], seed: 11), qg = uniformTensor([2, 1, 1, 3], seed: 12)
        var losses: [Double] = []
        for p in 0..<2 {
            var termW = 0.0, termL = 0.0, total = 0.0
            for c in 0..<2 { for x in 0..<3 {
                func e(_ t: Tensor, _ r: Int) -> Double { let d = Double(t[[r, c, 0, x]]) - Double(noise[[r, c, 0, x]]); return d * d }
                let ww = 1 - Double(qr[[p, 0, 0, x]]), wl = 1 - Double(qg[[p, 0, 0, x]])
                termW += ww * (e(pred, p) - e(ref, p))
                termL += wl * (e(pred, p + 2) - e(ref, p + 2))
                total += ww + wl
            } }
            losses.append(softplusNeg(-(beta / 2) * (termW - termL) / total))
        }
        let got = patchDPOPrefLoss(prediction: Variable(pred), reference: ref, noise: noise,
                                   referenceQuality: qr, generatedQuality: qg, beta: Float(beta))
        expectClose(Double(got.loss.item), losses.reduce(0, +) / 2, atol: 0, rtol: 1e-6, "patchdpo-pref")
    }

    @Test func patchDPOPrefAllZeroWeightsIsNeutral() {
        let ones = Tensor(repeating: 1, shape: [2, 1, 1, 3])
        let got = patchDPOPrefLoss(prediction: Variable(near(13)), reference: near(14), noise: noise,
                                   referenceQuality: ones, generatedQuality: ones, beta: 5000)
        expectClose(Double(got.loss.item), Foundation.log(2), atol: 0, rtol: 5e-7, "all-zero weights")
    }

    @Test(arguments: [true, false]) func hgDPOAddsStatisticMatching(sampled: Bool) {
        let pred = near(15), ref = near(16), beta = 2500.0, lambda = 10000.0
        let xt = normalTensor(shape, seed: 17), t = [10, 700]
        let z = sampled ? normalTensor([2, 2, 1, 3], seed: 18) : nil
        let schedule = NoiseSchedule()
        let et = rowMSE(pred, noise, rows: 4), er = rowMSE(ref, noise, rows: 4)
        func pairLoss(_ i: Int) -> Double {
            // HG-DPO's Eq. 3: -beta, not Diffusion-DPO code's -beta/2 (so beta = 2500 acts as 2500).
            let u: Double = -beta * ((et[i] - et[i + 2]) - (er[i] - er[i + 2]))
            return softplusNeg(u)
        }
        let dpo = (pairLoss(0) + pairLoss(1)) / 2
        // One reverse step written out in Double: x_{t-1} = mean(x_t, x0_hat(e)) + s z; mu over H, W.
        func step(_ e: Tensor, _ p: Int, _ c: Int, _ x: Int) -> Double {
            let ab = schedule.alphasCumprod[t[p]], abPrev = t[p] > 0 ? schedule.alphasCumprod[t[p] - 1] : 1
            let b = schedule.betas[t[p]], xv = Double(xt[[p, c, 0, x]])
            let ev = Double(e[[p, c, 0, x]])
            let x0: Double = (xv - (1 - ab).squareRoot() * ev) / ab.squareRoot()
            let cX0: Double = abPrev.squareRoot() * b / (1 - ab)
            let cXt: Double = (1 - b).squareRoot() * (1 - abPrev) / (1 - ab)
            let mean: Double = cX0 * x0 + cXt * xv
            let s: Double = (b * (1 - abPrev) / (1 - ab)).squareRoot()
            let zv = Double(z?[[p, c, 0, x]] ?? 0)
            return mean + s * zv
        }
        var stat = 0.0
        for p in 0..<2 { for c in 0..<2 {
            let mt = (0..<3).map { step(pred, p, c, $0) }.reduce(0, +) / 3
            let mr = (0..<3).map { step(ref, p, c, $0) }.reduce(0, +) / 3
            stat += (mt - mr) * (mt - mr)
        } }
        stat /= 2
        let got = hgDPOLoss(prediction: Variable(pred), reference: ref, noise: noise, noisySample: xt, timesteps: t,
                            schedule: schedule, stepNoise: z, beta: Float(beta), lambdaStat: Float(lambda))
        #expect(stat * lambda > 1e-4, "fixture must make the statistic term visible: \(stat * lambda)")
        #expect(abs(got.parts["stat"]! - stat) <= 1e-3 * stat, "hg-dpo L_stat: got \(got.parts["stat"]!), want \(stat)")
        expectClose(Double(got.loss.item), dpo + lambda * stat, atol: 0, rtol: 1e-6, "hg-dpo total")
    }

    @Test func defaultsFollowTheReferenceCode() throws {
        #expect(LossKind.diffusionDPO.defaultBeta == 5000)
        #expect(LossKind.hgDPO.defaultBeta == 2500)
        #expect(LossKind.dco.defaultBeta == 1000)
        #expect(PreferenceObjective(kind: .hgDPO).lambdaStat == 10000)
        // The recorded effective beta: Diffusion-DPO's code halves its beta, HG-DPO's Eq. 3 does not.
        func effective(_ loss: String, _ beta: Double) -> Double? {
            AdapterRecord(loss: loss, steps: 1, seed: 1, codeVersion: "t", config: "", beta: beta, finalLoss: nil,
                          finalImplicitAccuracy: nil, weightsSHA256: "").effectiveBeta
        }
        #expect(effective("hg-dpo", 2500) == 2500 && effective("diffusion-dpo", 5000) == 2500 && effective("dco", 1000) == 1000)
        #expect(try LossKind(name: "patchdpo-pref") == .patchdpoPref)
        #expect(throws: ObjectivesError.self) { try LossKind(name: "dpo") }
        do { _ = try LossKind(name: "dpo") } catch { #expect("\(error)".contains("diffusion-dpo")) }
    }
}
