import Checkpoint
import Foundation
import Testing
@testable import Optim

func tempDir(_ tag: String = #function) -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("optim-tests-\(tag.filter { $0.isLetter })-\(UUID().uuidString)")
    try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

func optimError(_ body: () throws -> Void) -> OptimError? {
    do { try body(); return nil } catch let e as OptimError { return e } catch {
        Issue.record("expected an OptimError, got \(error)")
        return nil
    }
}

@Suite struct OptimizerStateTests {
    /// Runs the golden trajectory with a save/load into a fresh optimizer after `split` steps;
    /// the result must be bit-identical to the uninterrupted run.
    func resumeIsExact<O: Optimizer & Equatable>(_ make: () -> O, _ t: Trajectory, split: Int) throws {
        var straight = make()
        var p1 = t.`init`
        for s in t.steps { straight.step(&p1, gradients: s.grads) }

        var first = make()
        var p2 = t.`init`
        for s in t.steps[..<split] { first.step(&p2, gradients: s.grads) }
        let url = tempDir().appendingPathComponent("opt.safetensors")
        try first.saveState(to: url)
        var resumed = make()
        resumed.learningRate = 123  // overwritten by the load
        try resumed.loadState(from: url)
        #expect(resumed == first)
        for s in t.steps[split...] { resumed.step(&p2, gradients: s.grads) }
        #expect(p2.mapValues { $0.map(\.bitPattern) } == p1.mapValues { $0.map(\.bitPattern) })
    }

    @Test func adamWStateRoundTripsAndResumesBitForBit() throws {
        let t = try #require(try fixture("optim_adamw.json", as: TrajectoryFile.self).cases["low_beta1_high_decay"])
        try resumeIsExact({ GoldenTrajectoryTests.adamW(t) }, t, split: 3)
        let file = AdamW(learningRate: 0.1).stateFile()
        #expect(file.metadata["optimizer"] == "AdamW" && file.metadata["lr"] == "0.1")
    }

    @Test func sgdStateRoundTripsAndResumesBitForBit() throws {
        let t = try #require(try fixture("optim_sgd.json", as: TrajectoryFile.self).cases["nesterov"])
        try resumeIsExact({ GoldenTrajectoryTests.sgd(t) }, t, split: 2)
    }

    @Test func badStateIsNamed() throws {
        var adam = AdamW()
        var params: [String: [Float]] = ["w": [1, 2], "b": [3]]
        adam.step(&params, gradients: ["w": [0.1, 0.2], "b": [0.3]])
        var good = adam.stateFile()

        var sgd = SGD(learningRate: 0.1)
        #expect(optimError { try sgd.loadState(good, path: "o.st") }
                == .badState(path: "o.st", key: "optimizer", detail: "state was written by AdamW, loading into SGD; use the same optimizer as the saved run"))
        var missing = good
        missing.tensors["w.exp_avg_sq"] = nil
        #expect(optimError { try adam.loadState(missing, path: "o.st") } == .badState(path: "o.st", key: "w.exp_avg_sq", detail: "missing tensor"))
        var extra = good
        extra.tensors["ghost.exp_avg"] = TensorData(shape: [1], values: [0])
        guard case .badState(_, "ghost.exp_avg", _)? = optimError({ try adam.loadState(extra, path: "o.st") }) else {
            Issue.record("unknown tensor not reported"); return
        }
        good.metadata["beta2"] = "abc"
        guard case .badState(_, "beta2", _)? = optimError({ try adam.loadState(good, path: "o.st") }) else {
            Issue.record("bad number not reported"); return
        }
    }

    @Test func schedulesArePureFunctionsOfTheStep() {
        let cosine = LRSchedule(base: 1e-3, warmupSteps: 10, totalSteps: 110, floor: 1e-5, decay: .cosine)
        #expect(cosine.lr(at: 0) == 1e-4)
        #expect(abs(cosine.lr(at: 4) - 5e-4) < 1e-15)
        #expect(cosine.lr(at: 9) == 1e-3)
        #expect(cosine.lr(at: 10) == 1e-3)
        #expect(abs(cosine.lr(at: 60) - (1e-3 + 1e-5) / 2) < 1e-15)
        #expect(abs(cosine.lr(at: 35) - (1e-5 + (1e-3 - 1e-5) * (1 + cos(Double.pi / 4)) / 2)) < 1e-15)
        #expect(cosine.lr(at: 110) == 1e-5 && cosine.lr(at: 10_000) == 1e-5)
        #expect((11..<110).allSatisfy { cosine.lr(at: $0) < cosine.lr(at: $0 - 1) })
        let linear = LRSchedule(base: 2, warmupSteps: 0, totalSteps: 4, floor: 0, decay: .linear)
        #expect((0...5).map { linear.lr(at: $0) } == [2, 1.5, 1, 0.5, 0, 0])
        let constant = LRSchedule(base: 0.5, warmupSteps: 2, decay: .constant)
        #expect((0...3).map { constant.lr(at: $0) } == [0.25, 0.5, 0.5, 0.5])
    }

    @Test func emaFollowsTheFormulaAndRoundTrips() throws {
        var ema = EMA(decay: 0.9)
        ema.step(["w": [1, 2]])
        #expect(ema.shadow["w"] == [1, 2])
        ema.step(["w": [2, 0]])
        #expect(ema.shadow["w"] == [Float(1) - Float(0.1) * (1 - 2), Float(2) - Float(0.1) * (2 - 0)])
        var warm = EMA(decay: 0.999, warmup: true)
        #expect(warm.currentDecay == 0.1)
        warm.step(["w": [0]])
        #expect(abs(warm.currentDecay - 2.0 / 11) < 1e-15)

        var restored = EMA()
        try restored.loadState(ema.stateFile(shapes: ["w": [1, 2]]), path: "ema")
        #expect(restored == ema)
        #expect(ema.stateFile(shapes: ["w": [1, 2]]).tensors["w"]?.shape == [1, 2])
    }
}
