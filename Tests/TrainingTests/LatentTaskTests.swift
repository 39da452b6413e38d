import Autograd
import Diffusion
import Foundation
import Models
import NN
import Random
import Testing
import TensorCore
@testable import Training

@Suite struct LatentTaskTests {
    static let vae = AutoencoderConfig(latentChannels: 4, blockOutChannels: [8, 16])

    @Test func minSNRWeightsEachRowByMinSNRGammaOverSNR() throws {
        let schedule = NoiseSchedule()
        let x0 = Init.normal([3, 2, 2, 2], key: RNGKey(seed: 1))
        let d = DenoisingDraw(x0: x0, schedule: schedule, seed: 4, step: 0)
        let pred = Variable(Init.normal(x0.shape, key: RNGKey(seed: 2)))
        // gamma 0 is plain MSE.
        #expect(d.loss(pred, schedule: schedule, snrGamma: 0).value.scalars == mseLoss(pred, Variable(d.noise)).value.scalars)
        // By hand: mean over rows of min(snr, 5) / snr * row MSE.
        var want = 0.0
        for (r, t) in d.timesteps.enumerated() {
            let abar = schedule.alphaBar(t), snr = abar / (1 - abar)
            var se = 0.0
            for i in 0..<8 { let e = Double(pred.value.scalars[r * 8 + i] - d.noise.scalars[r * 8 + i]); se += e * e }
            want += min(snr, 5) / snr * se / 8
        }
        want /= 3
        let got = Double(d.loss(pred, schedule: schedule, snrGamma: 5).value.scalars[0])
        #expect(abs(got - want) < 1e-5 * max(1, want), "\(got) vs \(want)")
        // A gamma above every SNR weighs every row 1.
        let huge = d.loss(pred, schedule: schedule, snrGamma: 1e30).value.scalars[0]
        #expect(abs(huge - mseLoss(pred, Variable(d.noise)).value.scalars[0]) < 1e-6)
    }

    /// Object weights pool the render's coverage to the denoised grid, weigh covered cells 1 + lambda, and
    /// keep mean 1 per row; the weighted loss is the weighted mean of the squared error by hand.
    @Test func objectWeightsPoolCoverageToTheGridAndWeighTheLoss() throws {
        // Two 4x4 rows; row 0's object covers its top-left 2x2 block, row 1 has no object.
        var coverage = [Float](repeating: 0, count: 32)
        for (y, x) in [(0, 0), (0, 1), (1, 0), (1, 1)] { coverage[y * 4 + x] = 1 }
        #expect(DenoisingDraw.objectWeights(coverage: coverage, batch: 2, side: 4, grid: 2, objectWeight: 0) == nil)
        let w = try #require(DenoisingDraw.objectWeights(coverage: coverage, batch: 2, side: 4, grid: 2, objectWeight: 3))
        #expect(w.shape == [2, 1, 2, 2])
        // Row 0: raw [4, 1, 1, 1] / mean 1.75; row 1: all 1.
        let expected: [Float] = [4 / 1.75, 1 / 1.75, 1 / 1.75, 1 / 1.75, 1, 1, 1, 1]
        #expect(zip(w.scalars, expected).allSatisfy { abs($0 - $1) < 1e-6 }, "\(w.scalars)")
        let schedule = NoiseSchedule()
        let d = DenoisingDraw(x0: Init.normal([2, 3, 2, 2], key: RNGKey(seed: 1)), schedule: schedule, seed: 4, step: 0)
        let pred = Variable(Init.normal([2, 3, 2, 2], key: RNGKey(seed: 2)))
        var want = 0.0
        for r in 0..<2 { for c in 0..<3 { for i in 0..<4 {
            let e = Double(pred.value.scalars[(r * 3 + c) * 4 + i] - d.noise.scalars[(r * 3 + c) * 4 + i])
            want += Double(w.scalars[r * 4 + i]) * e * e
        } } }
        want /= 24
        let got = Double(d.loss(pred, schedule: schedule, snrGamma: 0, cellWeights: w).value.scalars[0])
        #expect(abs(got - want) < 1e-5 * max(1, want), "\(got) vs \(want)")
    }

    @Test func aLatentUNetTaskDenoisesTheFrozenAutoencodersLatents() throws {
        let te = try TextEncoder(config: TinyModels.text, key: RNGKey(seed: 1))
        let vae = try AutoencoderKL(config: Self.vae, key: RNGKey(seed: 6))
        var cfg = TinyModels.unet
        cfg.inChannels = 4; cfg.outChannels = 4
        let unet = try UNet2DConditionModel(config: cfg, key: RNGKey(seed: 2))
        let task = UNetDenoisingTask(unet: unet, textEncoder: te, data: TinyModels.data, seed: 3, batchSize: 2, vae: vae, snrGamma: 5)
        let before = vae.namedParameters().map(\.1.value.scalars)
        let t = Trainer(task: task, settings: TrainSettings(steps: 1, batchSize: 2, learningRate: 1e-2, seed: 3))
        let loss = try t.trainStep()
        #expect(loss.isFinite)
        #expect(vae.namedParameters().map(\.1.value.scalars) == before, "the autoencoder must stay frozen")
        #expect(!task.trainable.contains { $0.0.hasPrefix("encoder.") || $0.0.hasPrefix("decoder.") })
    }

    @Test func pixelWeightsAreOnePlusObjectWeightTimesCoverageWithRowMeanOne() {
        let w = AutoencoderTask.pixelWeights(coverage: [0, 1, 0, 0, 1, 1, 1, 1], batch: 2, side: 2, objectWeight: 3)
        #expect(w.shape == [2, 1, 2, 2])
        // Row 0: raw [1, 4, 1, 1], mean 7/4. Row 1: all 4, so all 1.
        let want: [Float] = [4.0 / 7, 16.0 / 7, 4.0 / 7, 4.0 / 7, 1, 1, 1, 1]
        for (a, b) in zip(w.scalars, want) { #expect(abs(a - b) < 1e-6) }
    }

    @Test func theAutoencoderTaskLearnsToReconstructAFewRenders() throws {
        let vae = try AutoencoderKL(config: Self.vae, key: RNGKey(seed: 7))
        let task = AutoencoderTask(vae: vae, data: TinyModels.data, seed: 2, batchSize: 2)
        let b = try WorldData.batch(seed: 2, step: 0, size: 2, config: TinyModels.data)
        func err() -> Float {
            let y = vae.decode(latents: vae.latents(of: b.images))
            return zip(y.scalars, b.images.scalars).map { abs($0 - $1) }.reduce(0, +) / Float(y.count)
        }
        let e0 = err()
        let t = Trainer(task: FixedBatch(task: task, batch: b), settings: TrainSettings(steps: 20, batchSize: 2, learningRate: 1e-2, seed: 2))
        while !t.isDone { _ = try t.trainStep() }
        let e1 = err()
        #expect(e1 < 0.7 * e0, "mean abs reconstruction error \(e0) -> \(e1)")
    }
}

/// The autoencoder task on one fixed batch (overfitting check).
final class FixedBatch: PretrainTask {
    let task: AutoencoderTask
    let batch: WorldBatch
    init(task: AutoencoderTask, batch: WorldBatch) { self.task = task; self.batch = batch }
    var trainable: [(String, Parameter)] { task.trainable }
    func loss(step: Int) throws -> Variable {
        task.vae.train(true)
        return task.loss(images: batch.images, coverage: batch.coverage, noiseKey: RNGKey(seed: 9).fold(in: UInt64(step)))
    }
}
