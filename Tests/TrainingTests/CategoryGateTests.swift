import Diffusion
import Generation
import Models
import Random
import Testing
import World
@testable import Training

/// The base U-Net's gate counts each misreading of the judge once, under "requested>read".
@Suite struct CategoryGateTests {
    @Test func everyMisreadingIsCountedOnceByWhatWasAskedAndWhatWasRead() throws {
        let judge = try WorldJudgeTaskTests().tinyJudge()
        let text = try TextEncoder(config: TextEncoderConfig(vocabSize: 128, maxLength: 12, width: 16, depth: 1, heads: 2, mlpDim: 32),
                                   key: RNGKey(seed: 1))
        let unet = try UNet2DConditionModel(config: UNetConfig(blockOutChannels: [8, 16], layersPerBlock: 1, crossAttentionDim: 16, heads: 2),
                                            key: RNGKey(seed: 2))
        let g = Generator(textEncoder: text, imageEncoder: nil, resampler: nil, unet: unet,
                          schedule: NoiseSchedule(.linear, trainSteps: 100, betaStart: 1e-3, betaEnd: 0.05), resolution: 16)
        let gate = try Gates.categoryAccuracy(g, judge: judge, backgrounds: [.beach, .snow], options: SamplingOptions(steps: 1), seed: 3)
        let n = 2 * ObjectCategory.allCases.count
        #expect(gate.samples.count == n)
        #expect(gate.categoryConfusions.values.reduce(0, +) == Int((1 - gate.accuracy) * Double(n) + 0.5))
        #expect(gate.sceneConfusions.values.reduce(0, +) == Int((1 - gate.sceneAccuracy) * Double(n) + 0.5))
        for key in gate.sceneConfusions.keys {
            let parts = key.split(separator: ">").map(String.init)
            #expect(parts.count == 2 && ["beach", "snow"].contains(parts[0]) && parts[0] != parts[1], "\(key)")
        }
        #expect(CategoryGate.top(["a>b": 1, "c>d": 3, "e>f": 3], 2) == "c>d x3, e>f x3")
    }
}
