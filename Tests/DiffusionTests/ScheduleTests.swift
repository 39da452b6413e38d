import Foundation
import Testing
import TensorCore
@testable import Diffusion

@Suite struct ScheduleTests {
    @Test func betaSchedules() {
        let lin = NoiseSchedule(.linear)
        #expect(lin.trainSteps == 1000)
        #expect(abs(lin.betas[0] - 1e-4) < 1e-12 && abs(lin.betas[999] - 0.02) < 1e-12)
        let sl = NoiseSchedule(.scaledLinear, betaStart: 0.00085, betaEnd: 0.012)
        #expect(abs(sl.betas[0] - 0.00085) < 1e-12 && abs(sl.betas[999] - 0.012) < 1e-12)
        // Scaled-linear is the square of a linspace: its square root has constant increments.
        let r = sl.betas.map { $0.squareRoot() }
        #expect(abs((r[1] - r[0]) - (r[999] - r[998])) < 1e-12)
        // abar decreases strictly; abar_999 for DDPM's schedule is about 4.04e-5.
        #expect(zip(lin.alphasCumprod, lin.alphasCumprod.dropFirst()).allSatisfy { $0 > $1 })
        #expect(abs(lin.alphasCumprod[999] - 4.0358e-5) < 1e-8, "\(lin.alphasCumprod[999])")
    }

    @Test func addNoiseThenPredictX0RoundTrips() {
        let s = NoiseSchedule()
        let x0 = Tensor(shape: [2, 1, 1, 3], scalars: [0.5, -0.25, 1, 0, 0.75, -1])
        let eps = Tensor(shape: [2, 1, 1, 3], scalars: [0.1, -2, 0.3, 1.5, -0.5, 0.2])
        let ts = [10, 700]
        let xt = s.addNoise(x0, noise: eps, timesteps: ts)
        let a = Float(s.alphaBar(700))
        #expect(abs(xt.scalars[3] - (a.squareRoot() * 0 + (1 - a).squareRoot() * 1.5)) < 1e-6)
        for b in 0..<2 {
            let row = Tensor(shape: [1, 1, 1, 3], scalars: Array(xt.scalars[b * 3..<b * 3 + 3]))
            let e = Tensor(shape: [1, 1, 1, 3], scalars: Array(eps.scalars[b * 3..<b * 3 + 3]))
            let back = s.predictX0(sample: row, epsilon: e, timestep: ts[b])
            for i in 0..<3 { #expect(abs(back.scalars[i] - x0.scalars[b * 3 + i]) < 1e-4) }
        }
    }

    /// The posterior mean with the true eps equals the closed-form q(x_{t-1} | x_t, x0) mean.
    @Test func posteriorMeanMatchesClosedForm() {
        let s = NoiseSchedule()
        let t = 300
        let x0 = Tensor(shape: [1, 1, 1, 2], scalars: [0.4, -0.7])
        let eps = Tensor(shape: [1, 1, 1, 2], scalars: [1.2, 0.3])
        let xt = s.addNoise(x0, noise: eps, timesteps: [t])
        let mean = s.posteriorStep(epsilon: eps, timestep: t, sample: xt)
        let abT = s.alphaBar(t), abP = s.alphaBar(t - 1), b = s.betas[t]
        for i in 0..<2 {
            let expected = abP.squareRoot() * b / (1 - abT) * Double(x0.scalars[i])
                + (1 - b).squareRoot() * (1 - abP) / (1 - abT) * Double(xt.scalars[i])
            #expect(abs(Double(mean.scalars[i]) - expected) < 1e-5)
        }
        #expect(s.posteriorCoefficients(0).std == 0)
    }

    @Test func guidanceCombinations() {
        let c = Tensor(shape: [2], scalars: [1, 2]), u = Tensor(shape: [2], scalars: [0, 1])
        #expect(Guidance.classifierFree(conditional: c, unconditional: u, scale: 3).scalars == [3, 4])
        let trained = Tensor(shape: [2], scalars: [2, 2])
        // w_rg = 0 is CFG on the reference model; w_rg = 1 adds the whole delta.
        #expect(Guidance.reward(referenceConditional: c, referenceUnconditional: u, trainedConditional: trained,
                                textScale: 3, rewardScale: 0).scalars == [3, 4])
        #expect(Guidance.reward(referenceConditional: c, referenceUnconditional: u, trainedConditional: trained,
                                textScale: 3, rewardScale: 1).scalars == [4, 4])
        // Decoupled image guidance: u + wT (t - u) + wI (c - t); wI = wT is plain CFG between c and u.
        let textOnly = Tensor(shape: [2], scalars: [0.5, 3])
        #expect(Guidance.decoupled(conditional: c, textOnly: textOnly, unconditional: u, textScale: 3, imageScale: 3).scalars == [3, 4])
        #expect(Guidance.decoupled(conditional: c, textOnly: textOnly, unconditional: u, textScale: 2, imageScale: 4).scalars
                == [3, 1])                                                   // [0 + 2 * 0.5 + 4 * 0.5, 1 + 2 * 2 + 4 * -1]
    }

    @Test func adaptiveNormalizationMatchesPlaneStatistics() {
        let x = Tensor(shape: [1, 2, 1, 2], scalars: [0, 2, 5, 5])
        let r = Tensor(shape: [1, 2, 1, 2], scalars: [10, 14, -1, 3])
        let y = Guidance.adaptiveNormalize(x, toMatch: r)
        #expect(y.scalars[0] == 10 && y.scalars[1] == 14)
        #expect(y.scalars[2] == 1 && y.scalars[3] == 1)  // flat plane: mean moves, no blow-up
    }

    @Test func noiseConfigRoundTripAndProblems() throws {
        let c = NoiseConfig(betaSchedule: .scaledLinear, trainSteps: 100, betaStart: 1e-3, betaEnd: 0.05)
        let json = try JSONEncoder().encode(c)
        #expect(try JSONDecoder().decode(NoiseConfig.self, from: json) == c)
        #expect(String(decoding: json, as: UTF8.self).contains("\"scaled_linear\""))
        #expect(c.problem == nil && c.schedule == NoiseSchedule(.scaledLinear, trainSteps: 100, betaStart: 1e-3, betaEnd: 0.05))
        #expect(NoiseConfig(trainSteps: 1).problem?.contains("trainSteps") == true)
        #expect(NoiseConfig(betaStart: 0.1, betaEnd: 0.05).problem?.contains("betaStart") == true)
        #expect(NoiseConfig(betaEnd: 1).problem != nil && NoiseConfig(betaStart: 0).problem != nil)
    }
}
