import Checkpoint
import Foundation
import Random
import Testing
@testable import Optim

/// A toy run: linear regression y = x . w* with minibatches drawn from a RandomStream,
/// AdamW with a cosine schedule, clipping and an EMA; checkpoint, resume, compare bits.
@Suite struct TrainingCheckpointTests {
    struct Run {
        var params: [String: [Float]] = ["w": [0, 0, 0, 0], "b": [0]]
        var opt = AdamW(learningRate: 0, weightDecay: 0.01)
        var ema = EMA(decay: 0.9, warmup: true)
        var rng = RandomStream(key: RNGKey(seed: 2024).fold(in: "toy-train"))
        var step = 0
        let schedule = LRSchedule(base: 0.3, warmupSteps: 3, totalSteps: 60, floor: 0.01)

        mutating func train(until end: Int) {
            let target: [Float] = [1, -2, 0.5, 3]
            while step < end {
                var gw = [Float](repeating: 0, count: 4), gb: Float = 0
                for _ in 0..<8 {
                    let x = rng.normals(4)
                    let noise = 0.1 * rng.nextNormal()
                    let y = zip(x, target).map(*).reduce(0, +) + noise
                    let pred = zip(x, params["w"]!).map(*).reduce(0, +) + params["b"]![0]
                    let r = (pred - y) / 8
                    for j in 0..<4 { gw[j] += 2 * r * x[j] }
                    gb += 2 * r
                }
                var grads = ["w": gw, "b": [gb]]
                _ = GradClip.clipGradNorm(&grads, maxNorm: 5)
                opt.learningRate = schedule.lr(at: step)
                opt.step(&params, gradients: grads)
                ema.step(params)
                step += 1
            }
        }

        func state() -> TrainingState<RandomStream> {
            TrainingState(step: step,
                          model: SafeTensorsFile(tensors: params.mapValues { TensorData(shape: [$0.count], values: $0) }),
                          optimizer: opt.stateFile(), rng: rng,
                          extraFiles: ["ema": ema.stateFile()], metadata: ["config": "toy"])
        }

        static func resume(_ s: TrainingState<RandomStream>) throws -> Run {
            var run = Run()
            run.params = s.model.tensors.mapValues(\.values)
            try run.opt.loadState(s.optimizer, path: "optimizer")
            try run.ema.loadState(s.extraFiles["ema"]!, path: "ema")
            run.rng = s.rng
            run.step = s.step
            return run
        }
    }

    @Test func resumedRunEndsBitForBitWhereAnUninterruptedRunEnds() throws {
        var straight = Run()
        straight.train(until: 60)

        let root = tempDir()
        var first = Run()
        first.train(until: 23)
        try TrainingCheckpoint.save(first.state(), root: root)
        first.train(until: 41)
        try TrainingCheckpoint.save(first.state(), root: root)

        let latest = try #require(TrainingCheckpoint.latest(in: root))
        #expect(latest.lastPathComponent == "step-00000041")
        let loaded = try TrainingCheckpoint.load(latest, rng: RandomStream.self)
        #expect(loaded.step == 41 && loaded.metadata == ["config": "toy"])
        var resumed = try Run.resume(loaded)
        resumed.train(until: 60)

        #expect(resumed.params.mapValues { $0.map(\.bitPattern) } == straight.params.mapValues { $0.map(\.bitPattern) })
        #expect(resumed.ema == straight.ema)
        #expect(resumed.opt == straight.opt)
        #expect(resumed.rng == straight.rng)
        // And the toy problem was actually learned (the test exercises real training).
        #expect(abs(straight.params["w"]![1] + 2) < 0.3, "w = \(straight.params["w"]!)")
    }

    @Test func interruptedOrDamagedCheckpointsAreRefused() throws {
        let root = tempDir()
        var run = Run()
        run.train(until: 2)
        try TrainingCheckpoint.save(run.state(), root: root)
        run.train(until: 4)
        let dir4 = try TrainingCheckpoint.save(run.state(), root: root)

        // A crash before the index: the directory exists but is not a checkpoint.
        try FileManager.default.removeItem(at: dir4.appendingPathComponent(TrainingCheckpoint.indexName))
        #expect(TrainingCheckpoint.latest(in: root)?.lastPathComponent == "step-00000002")
        #expect(optimError { _ = try TrainingCheckpoint.load(dir4, rng: RandomStream.self) }
                == .incompleteCheckpoint(directory: dir4.path, missing: "index.json"))

        // A file changed after the index was written.
        let dir2 = TrainingCheckpoint.directory(root: root, step: 2)
        let model = dir2.appendingPathComponent("model.safetensors")
        let original = try Data(contentsOf: model)
        let size = original.count
        try (original + Data([0])).write(to: model)
        #expect(optimError { _ = try TrainingCheckpoint.load(dir2, rng: RandomStream.self) }
                == .sizeMismatch(path: model.path, file: "model.safetensors", expected: size, found: size + 1))

        // A missing file.
        try original.write(to: model)
        try FileManager.default.removeItem(at: dir2.appendingPathComponent("rng.json"))
        #expect(optimError { _ = try TrainingCheckpoint.load(dir2, rng: RandomStream.self) }
                == .incompleteCheckpoint(directory: dir2.path, missing: "rng.json"))
        #expect(TrainingCheckpoint.latest(in: root.appendingPathComponent("nothing-here")) == nil)
    }
}
