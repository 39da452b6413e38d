import Foundation
import Testing
import TestSupport
@testable import Optim

/// Trajectories of torch.optim (or its NumPy transcription: see Tests/Fixtures/README.md),
/// compared parameter by parameter after every step.
@Suite struct GoldenTrajectoryTests {
    static func adamW(_ t: Trajectory) -> AdamW {
        AdamW(learningRate: t.hyper["lr"]!.number, beta1: t.hyper["betas"]!.pair[0], beta2: t.hyper["betas"]!.pair[1],
              eps: t.hyper["eps"]!.number, weightDecay: t.hyper["weight_decay"]!.number)
    }

    static func sgd(_ t: Trajectory) -> SGD {
        SGD(learningRate: t.hyper["lr"]!.number, momentum: t.hyper["momentum"]!.number,
            dampening: t.hyper["dampening"]!.number, weightDecay: t.hyper["weight_decay"]!.number,
            nesterov: t.hyper["nesterov"]!.flag)
    }

    func follow<O: Optimizer>(_ optimizer: O, _ t: Trajectory, _ name: String) {
        var opt = optimizer
        var params = t.`init`
        for (i, step) in t.steps.enumerated() {
            opt.step(&params, gradients: step.grads)
            for key in step.params.keys.sorted() {
                expectClose(params[key]!, step.params[key]!, "\(name) step \(i + 1) '\(key)'")
            }
        }
    }

    @Test(arguments: ["default", "low_beta1_high_decay"])
    func adamWMatchesTheReference(caseName: String) throws {
        let file = try fixture("optim_adamw.json", as: TrajectoryFile.self)
        let t = try #require(file.cases[caseName])
        #expect(t.steps.count == 6 && t.steps[2].grads["b"] == nil, "fixture must skip 'b' at step 3")
        follow(Self.adamW(t), t, "AdamW \(caseName)")
    }

    @Test(arguments: ["plain", "momentum_dampening_decay", "nesterov"])
    func sgdMatchesTheReference(caseName: String) throws {
        let file = try fixture("optim_sgd.json", as: TrajectoryFile.self)
        let t = try #require(file.cases[caseName])
        follow(Self.sgd(t), t, "SGD \(caseName)")
    }

    @Test func gradientClippingMatchesTheReference() throws {
        let file = try fixture("optim_clip.json", as: ClipFile.self)
        #expect(file.cases.count == 3)
        for c in file.cases {
            var grads = c.grads
            let total = GradClip.clipGradNorm(&grads, maxNorm: c.max_norm)
            #expect(abs(Double(total) - c.total_norm) <= 1e-5 * c.total_norm, "max_norm \(c.max_norm): norm \(total) vs \(c.total_norm)")
            for key in c.clipped.keys.sorted() {
                expectClose(grads[key]!, c.clipped[key]!, "clip \(c.max_norm) '\(key)'")
            }
            // The buffer-pointer form gives the same result.
            var a = c.grads["a"]!, b = c.grads["b"]!
            let total2 = a.withUnsafeMutableBufferPointer { pa in
                b.withUnsafeMutableBufferPointer { pb in GradClip.clipGradNorm([pa, pb], maxNorm: c.max_norm) }
            }
            #expect(total2 == total && a == grads["a"]! && b == grads["b"]!)
        }
    }

    @Test func perParameterStepCountsSkipMissingGradients() throws {
        let t = try #require(try fixture("optim_adamw.json", as: TrajectoryFile.self).cases["default"])
        var opt = Self.adamW(t)
        var params = t.`init`
        for step in t.steps { opt.step(&params, gradients: step.grads) }
        #expect(opt.state["w"]?.step == 6)
        #expect(opt.state["b"]?.step == 5)
    }
}
