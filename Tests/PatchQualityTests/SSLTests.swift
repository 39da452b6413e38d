import Autograd
import Checkpoint
import Foundation
import Models
import NN
import Optim
import Random
import Testing
import TensorCore
@testable import PatchQuality

enum Fixture {
    static let tiny = ViTConfig(imageSize: 8, patchSize: 4, width: 8, depth: 2, heads: 2, mlpDim: 16)

    /// Weights redrawn uniformly in [-0.5, 0.5] (LayerNorm gains around 1) so no path is negligible.
    static func randomized(_ config: ViTConfig = tiny, seed: UInt64) throws -> ViT {
        let vit = try ViT(config: config, key: RNGKey(seed: seed))
        var s = RandomStream(seed: seed &+ 99)
        for (key, p) in vit.namedParameters() {
            var v = s.uniforms(p.value.count, low: -0.5, high: 0.5)
            if key.contains("norm") && key.hasSuffix("weight") { v = v.map { $0 + 1 } }
            p.value = Tensor(shape: p.shape, scalars: v)
        }
        return vit
    }

    static func images(_ n: Int, size: Int, seed: UInt64) -> Tensor {
        var s = RandomStream(seed: seed)
        return Tensor(shape: [n, 3, size, size], scalars: s.uniforms(n * 3 * size * size, low: -1, high: 1))
    }
}

@Suite struct SSLLossTests {
    /// Central finite differences along a random direction for every parameter, in Double.
    @Test(arguments: [GridTransform.rot90, .hflip])
    func gradientMatchesFiniteDifferences(_ t: GridTransform) throws {
        let model = try Fixture.randomized(seed: 1), frozen = try Fixture.randomized(seed: 2)
        let x = Fixture.images(2, size: 8, seed: 3)
        func loss() -> Double {
            Double(withNoGrad { SSLLoss.compute(model: model, frozen: frozen, images: x, transform: t, blocks: [1, 2], lambdaReg: 0.7).loss.item })
        }
        model.zeroGrad()
        let terms = SSLLoss.compute(model: model, frozen: frozen, images: x, transform: t, blocks: [1, 2], lambdaReg: 0.7)
        #expect(terms.equivariance > 0 && terms.regularizer > 0)
        terms.loss.backward()
        var s = RandomStream(seed: 4)
        let h: Float = 1e-2
        var checked = 0
        for (key, p) in model.namedParameters() {
            let d = s.uniforms(p.value.count, low: -1, high: 1), v0 = p.value
            p.value = Tensor(shape: v0.shape, scalars: zip(v0.scalars, d).map { $0 + h * $1 })
            let lp = loss()
            p.value = Tensor(shape: v0.shape, scalars: zip(v0.scalars, d).map { $0 - h * $1 })
            let lm = loss()
            p.value = v0
            let numeric = (lp - lm) / (2 * Double(h))
            guard let g = p.grad else {
                // Only the final norm lies after every tapped block: the loss must not depend on it.
                #expect(key.hasPrefix("norm.") && numeric == 0, "\(key) has no gradient but numeric \(numeric)")
                continue
            }
            let analytic = zip(g.scalars, d).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            #expect(abs(numeric - analytic) <= 1e-3 + 2e-2 * max(abs(numeric), abs(analytic)),
                    "\(key): analytic \(analytic), numeric \(numeric)")
            checked += 1
        }
        #expect(checked == model.namedParameters().count - 2)     // all but norm.weight, norm.bias
        #expect(frozen.parameters.allSatisfy { $0.grad == nil })
    }

    @Test func identityTransformAndUnchangedWeightsGiveZero() throws {
        let model = try Fixture.randomized(seed: 1), frozen = try Fixture.randomized(seed: 1)
        let x = Fixture.images(2, size: 8, seed: 3)
        let terms = SSLLoss.compute(model: model, frozen: frozen, images: x, transform: .identity, blocks: [2], lambdaReg: 1)
        #expect(terms.loss.item == 0)
        let rotated = SSLLoss.compute(model: model, frozen: frozen, images: x, transform: .rot180, blocks: [2], lambdaReg: 1)
        #expect(rotated.equivariance > 0 && rotated.regularizer == 0)
    }
}

@Suite struct SSLTrainerTests {
    @Test func scheduleVisitsEveryImageOncePerEpoch() {
        let s = SSLSchedule(seed: 9, imageCount: 7, batchSize: 3, epochs: 2)
        #expect(s.batchesPerEpoch == 3 && s.totalSteps == 6)
        for e in 0..<2 {
            let seen = (0..<3).flatMap { s.batch(at: e * 3 + $0).indices }
            #expect(seen.sorted() == Array(0..<7))
        }
        #expect(Set((0..<6).map { s.batch(at: $0).transform }).isSubset(of: Set(GridTransform.ssl)))
    }

    /// 2 steps, a checkpoint through files, a fresh trainer restored from it, 2 more steps: the same
    /// bytes as 4 uninterrupted steps.
    @Test func resumeFromACheckpointIsBitExact() throws {
        var config = SSLTrainingConfig()
        config.epochs = 2; config.batchSize = 2; config.blocks = [1, 2]; config.seed = 5; config.momentum = 0.9
        config.learningRate = 0.05
        config.photometric = 0.5  // the jitter is drawn per step too, so resume must redraw it exactly
        let images = Fixture.images(4, size: 8, seed: 6)
        let straight = SSLTrainer(model: try Fixture.randomized(seed: 1), frozen: try Fixture.randomized(seed: 1),
                                  images: images, config: config)
        while !straight.isFinished { straight.trainStep() }

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ssl-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let first = SSLTrainer(model: try Fixture.randomized(seed: 1), frozen: try Fixture.randomized(seed: 1),
                               images: images, config: config)
        first.trainStep(); first.trainStep()
        let saved = try TrainingCheckpoint.save(first.state(), root: dir)
        let second = SSLTrainer(model: try Fixture.randomized(seed: 1), frozen: try Fixture.randomized(seed: 1),
                                images: images, config: config)
        try second.restore(try TrainingCheckpoint.load(saved, rng: SSLSchedule.self), path: saved.path)
        #expect(second.step == 2)
        while !second.isFinished { second.trainStep() }
        #expect(second.model.stateDict() == straight.model.stateDict())
        #expect(second.model.stateDict() != first.model.stateDict())
    }

    @Test func restoreRefusesAnotherSchedule() throws {
        var config = SSLTrainingConfig()
        config.epochs = 1; config.batchSize = 2; config.blocks = [1]
        let a = SSLTrainer(model: try Fixture.randomized(seed: 1), frozen: try Fixture.randomized(seed: 1),
                           images: Fixture.images(4, size: 8, seed: 6), config: config)
        let b = SSLTrainer(model: try Fixture.randomized(seed: 1), frozen: try Fixture.randomized(seed: 1),
                           images: Fixture.images(3, size: 8, seed: 6), config: config)
        #expect(throws: PatchQualityError.self) { try b.restore(a.state(), path: "x") }
    }

    @Test func trainingLowersTheLoss() throws {
        var config = SSLTrainingConfig()
        config.epochs = 12; config.batchSize = 4; config.blocks = [2]; config.learningRate = 0.1; config.lambdaReg = 0.1
        let images = Fixture.images(4, size: 8, seed: 8)
        let t = SSLTrainer(model: try Fixture.randomized(seed: 3), frozen: try Fixture.randomized(seed: 3), images: images, config: config)
        func meanEquivariance() -> Float {
            GridTransform.ssl.map { tr in
                withNoGrad { SSLLoss.compute(model: t.model, frozen: t.frozen, images: images, transform: tr, blocks: [2], lambdaReg: 0).equivariance }
            }.reduce(0, +)
        }
        let before = meanEquivariance()
        while !t.isFinished { t.trainStep() }
        #expect(meanEquivariance() < before)
    }
}

@Suite struct ViTLoadingTests {
    @Test func infersTheConfigFromShapesAndLoadsByName() throws {
        let vit = try Fixture.randomized(ViTConfig.xs, seed: 4)
        var file = vit.stateDict()
        let loaded = try ViTLoading.load(file, path: "mem", heads: 2)
        #expect(loaded.config == ViTConfig.xs)
        #expect(loaded.stateDict() == vit.stateDict())
        file.metadata["heads"] = "2"
        #expect(try ViTLoading.config(of: file, path: "mem") == ViTConfig.xs)
        file.tensors["pos_embed"] = nil
        #expect(throws: PatchQualityError.badViTCheckpoint(path: "mem", detail: "missing tensor `pos_embed`")) {
            try ViTLoading.load(file, path: "mem", heads: 2)
        }
    }

    @Test func truncatedForwardTapsEqualTheFullForwardBitForBit() throws {
        let vit = try Fixture.randomized(ViTConfig.xs, seed: 8)
        let x = Variable(Fixture.images(2, size: 16, seed: 9))
        let full = vit.forward(x, taps: [1, 2, 3])
        let short = ViTTaps.forward(vit, x, taps: [2, 1])
        #expect(Set(short.keys) == [1, 2])
        #expect(short[1]!.value == full.taps[1]!.value && short[2]!.value == full.taps[2]!.value)
        #expect(ViTTaps.patchTokens(short, after: 2).value == full.patchTokens(after: 2).value)
    }

    @Test func blockLists() {
        #expect(ViTLoading.capped(blocks: [2, 7, 12], depth: 3) == [2, 3])
        #expect(ViTLoading.capped(blocks: [7], depth: 12) == [7])
        #expect(ViTLoading.capped(blocks: [], depth: 12) == nil && ViTLoading.capped(blocks: [0, 1], depth: 12) == nil)
        #expect(ViTLoading.partition(blocks: [1, 4, 7, 10, 12], depth: 6) == ([1, 4], [7, 10, 12]))
    }

    @Test func aClassifierCheckpointKeepsItsHead() throws {
        var config = ViTConfig.xs
        config.classes = 5                                                       // pretrain-vit trains a category head
        let vit = try Fixture.randomized(config, seed: 6)
        let loaded = try ViTLoading.load(vit.stateDict(), path: "mem", heads: 2)
        #expect(loaded.config == config && loaded.stateDict() == vit.stateDict())
    }

    @Test func aConvStemIsInferredFromItsBackboneKeys() throws {
        var config = ViTConfig.xs
        config.stemChannels = [6, 8]
        let vit = try Fixture.randomized(config, seed: 10)
        var file = vit.stateDict()
        let loaded = try ViTLoading.load(file, path: "mem", heads: 2)
        #expect(loaded.config == config && loaded.stateDict() == vit.stateDict())
        file.tensors["patch_embed.backbone.convs.1.weight"] = file.tensors["patch_embed.backbone.convs.0.weight"]   // [6, 3, 3, 3]
        #expect(throws: PatchQualityError.badViTCheckpoint(path: "mem", detail: "patch_embed.backbone.convs.1.weight [6, 3, 3, 3] does not chain 3x3 convs")) {
            try ViTLoading.load(file, path: "mem", heads: 2)
        }
    }

    @Test func headsFromARecord() {
        #expect(ViTLoading.heads(inRecord: Data(#"{"config":{"vit":{"heads":4}},"steps":10}"#.utf8)) == 4)
        // The pretrain-vit record as written by `pretrain vit` (abridged).
        let record = #"{"classes":["mug","ball"],"metrics":{"val_top1":0.07},"training":{"lr":"0.001"},"vit":{"depth":12,"heads":3,"width":96}}"#
        #expect(ViTLoading.heads(inRecord: Data(record.utf8)) == 3)
        #expect(ViTLoading.heads(inRecord: Data(#"{"seed":1}"#.utf8)) == nil)
        #expect(ViTLoading.heads(inRecord: Data("not json".utf8)) == nil)
    }
}

@Suite struct PhotometricJitterTests {
    @Test func strengthZeroIsTheIdentity() {
        let j = PhotometricJitter.random(strength: 0, key: RNGKey(seed: 3))
        #expect(j == .identity)
        let x = Fixture.images(2, size: 8, seed: 1)
        let y = PhotometricJitter.apply([.identity, .identity], toImages: x)
        #expect(zip(x.scalars, y.scalars).allSatisfy { abs($0 - $1) < 1e-6 })
    }

    /// p' = clamp(p gain (1 + rampX (X - 1/2) + rampY (Y - 1/2)) + offset, 0, 1) at pixel centres.
    @Test func matchesTheFormulaAndClamps() {
        let x = Tensor(shape: [1, 3, 2, 2], scalars: [Float](repeating: 0, count: 12))  // p = 0.5 everywhere
        let j = PhotometricJitter(gain: SIMD3(1, 2, 0.5), offset: 0.1, rampX: 0.4, rampY: 0)
        let y = PhotometricJitter.apply([j], toImages: x).scalars
        func expected(_ gain: Float, column: Int) -> Float {
            let shade = gain * (1 + 0.4 * ((Float(column) + 0.5) / 2 - 0.5))
            return min(max(0.5 * shade + 0.1, 0), 1) * 2 - 1
        }
        for c in 0..<3 {
            for row in 0..<2 {
                for col in 0..<2 {
                    #expect(abs(y[c * 4 + row * 2 + col] - expected([1, 2, 0.5][c], column: col)) < 1e-6)
                }
            }
        }
        #expect(y[4] == 1 && y[5] == 1)  // gain 2: 0.5 * 2 * 0.9 + 0.1 = 1.0, and 1.1 clamped to 1
    }

    @Test func drawsArePerStepPerImageAndBounded() {
        let s = SSLSchedule(seed: 4, imageCount: 8, batchSize: 4, epochs: 1)
        let a = s.jitters(at: 0, count: 4, strength: 1), b = s.jitters(at: 1, count: 4, strength: 1)
        #expect(a == s.jitters(at: 0, count: 4, strength: 1) && a != b && Set(a.map(\.offset)).count == 4)
        for j in a + b {
            #expect(abs(j.offset) <= 0.1 && abs(j.rampX) <= 0.5 && abs(j.rampY) <= 0.5)
            #expect((0.45...1.65).contains(j.gain.x) && (0.45...1.65).contains(j.gain.z))
        }
    }

    /// With the identity transform the equivariance term only sees the re-lighting.
    @Test func jitterMakesTheIdentityViewDiffer() throws {
        let model = try Fixture.randomized(seed: 1), frozen = try Fixture.randomized(seed: 1)
        let x = Fixture.images(2, size: 8, seed: 3)
        let jitters = SSLSchedule(seed: 1, imageCount: 2, batchSize: 2, epochs: 1).jitters(at: 0, count: 2, strength: 1)
        let terms = SSLLoss.compute(model: model, frozen: frozen, images: x, transform: .identity, blocks: [2], lambdaReg: 1,
                                    jitter: jitters)
        #expect(terms.equivariance > 0 && terms.regularizer == 0)
    }
}
