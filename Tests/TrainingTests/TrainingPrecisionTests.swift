import Autograd
import Checkpoint
import Foundation
import Models
import NN
import Random
import Testing
import TensorCore
@testable import Training

/// `TrainSettings.precision = .bf16`: the loss and backward of each step run their products in BF16 (CBF16's kernel,
/// products with N and K >= 32), the optimizer in FP32. Only where this CPU has AVX512-BF16.
@Suite(.enabled(if: GEMMPrecision.bf16Available)) struct TrainingPrecisionTests {
    /// A ViT wide enough (32) that its linear layers reach the BF16 kernel; the tiny models elsewhere stay FP32.
    static func task() throws -> ViTClassificationTask {
        let config = ViTConfig(imageSize: 16, patchSize: 4, width: 32, depth: 1, heads: 2, mlpDim: 64, classes: 13)
        return ViTClassificationTask(vit: try ViT(config: config, key: RNGKey(seed: 3)), data: TinyModels.data, seed: 5, batchSize: 8)
    }

    @Test func bf16StepsTrainTheProductsInBF16AndStayCloseToFP32() throws {
        func run(_ precision: GEMMPrecision) throws -> Trainer {
            let t = Trainer(task: try Self.task(), settings: TrainSettings(steps: 3, batchSize: 8, learningRate: 1e-3, seed: 5,
                                                                           precision: precision))
            while !t.isDone { try t.trainStep() }
            return t
        }
        let fp32 = try run(.fp32), bf16 = try run(.bf16), again = try run(.bf16)
        #expect(fp32.weights() != bf16.weights(), "the products ran in BF16")
        #expect(SafeTensorsBytes.of(bf16) == SafeTensorsBytes.of(again), "BF16 steps are deterministic")
        // Three steps from one init: the loss within 1% of FP32's (BF16 rounds operands to 8 bits of mantissa).
        #expect(abs(bf16.lastLoss - fp32.lastLoss) <= 0.01 * abs(fp32.lastLoss), "\(bf16.lastLoss) vs \(fp32.lastLoss)")
        #expect(bf16.settings.asRecord["precision"] == "bf16" && fp32.settings.asRecord["precision"] == nil)
        #expect(GEMMPrecision.current == .fp32, "the step's precision does not leak out of it")
    }
}

/// The encoded weights of a trainer, for byte comparison.
enum SafeTensorsBytes {
    static func of(_ t: Trainer) -> Data { SafeTensors.encode(t.weights()) }
}
