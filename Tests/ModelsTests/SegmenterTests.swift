import Autograd
import Foundation
import Models
import NN
import Random
import Testing
import TensorCore
import TestSupport

@Suite struct SegmenterTests {
    @Test func keysFollowTheUNet2DLayoutInPyTorchOrder() throws {
        let net = try Segmenter(config: .xs, key: RNGKey(seed: 1))
        func resnet(_ p: String, shortcut: Bool) -> [String] {
            ["norm1.weight", "norm1.bias", "conv1.weight", "conv1.bias", "norm2.weight", "norm2.bias", "conv2.weight", "conv2.bias"]
                .map { "\(p).\($0)" } + (shortcut ? ["\(p).conv_shortcut.weight", "\(p).conv_shortcut.bias"] : [])
        }
        let want = ["conv_in.weight", "conv_in.bias"]
            + resnet("down_blocks.0.resnets.0", shortcut: false)
            + ["down_blocks.0.downsamplers.0.conv.weight", "down_blocks.0.downsamplers.0.conv.bias"]
            + resnet("down_blocks.1.resnets.0", shortcut: true)
            + resnet("mid_block.resnets.0", shortcut: false)
            + resnet("up_blocks.0.resnets.0", shortcut: true)
            + ["conv_norm_out.weight", "conv_norm_out.bias", "conv_out.weight", "conv_out.bias"]
        #expect(net.namedParameters().map(\.0) == want)
        let shapes = Dictionary(uniqueKeysWithValues: net.namedParameters().map { ($0.0, $0.1.shape) })
        #expect(shapes["down_blocks.1.resnets.0.conv_shortcut.weight"] == [16, 8, 1, 1])
        // The decoder level reads [upsampled 16 channels ; skip 8] and gives 8.
        #expect(shapes["up_blocks.0.resnets.0.conv1.weight"] == [8, 24, 3, 3] && shapes["up_blocks.0.resnets.0.norm1.weight"] == [24])
        #expect(shapes["conv_out.weight"] == [1, 8, 3, 3] && net.convOut.bias!.value.scalars == [0])
    }

    @Test func logitsHaveTheInputsSideAtAnyMultipleOfTheFactorAndTheDefaultIsSmall() throws {
        let net = try Segmenter(config: SegmenterConfig(), key: RNGKey(seed: 2))
        #expect(net.config.downsampleFactor == 8)
        #expect(net.parameterCount == 166_673, "\(net.parameterCount)")
        #expect(net.parameterCount * 4 < 1_000_000)
        var rng = TestRNG(seed: 3)
        for side in [32, 16, 48] {
            let y = withNoGrad { net(Variable(rng.tensor([2, 3, side, side]))) }
            #expect(y.shape == [2, 1, side, side])
        }
        let p = net.probabilities(rng.tensor([1, 3, 32, 24]))
        #expect(p.shape == [1, 1, 32, 24] && p.scalars.allSatisfy { $0 > 0 && $0 < 1 })
    }

    @Test func gradientsMatchFiniteDifferences() throws {
        let net = try Segmenter(config: .xs, key: RNGKey(seed: 4))
        var rng = TestRNG(seed: 5)
        let checks = moduleGradCheck(net, inputs: [rng.tensor([1, 3, 4, 4])], h: 2e-3, rtol: 2e-2, atol: 1e-4) { x in net(x[0]) }
        #expect(checks == net.namedParameters().count + 1)
    }

    @Test func badConfigsAreErrorsNamingTheField() {
        for bad in [SegmenterConfig(channels: []), SegmenterConfig(channels: [8, 15]), SegmenterConfig(channels: [32, 48]),
                    SegmenterConfig(normEps: 0)] {
            #expect(throws: EncoderError.self, "\(bad)") { _ = try Segmenter(config: bad, key: RNGKey(seed: 0)) }
        }
        do { _ = try Segmenter(config: SegmenterConfig(channels: [32, 48]), key: RNGKey(seed: 0)) } catch {
            #expect("\(error)".contains("`channels` = 32 + 48"), "\(error)")
        }
    }

    /// Two widths whose sum overflows Int (each a multiple of its 32 groups) trapped in `validate` on record JSON (an input
    /// the fuzz harness crashes on, Tests/Fuzz/corpus/manifest-record/); now a config error.
    @Test func widthsWhoseSumOverflowsAreAConfigErrorNotATrap() {
        let big = Int.max / 32 * 32
        #expect(throws: EncoderError.self) { try SegmenterConfig(channels: [big, big]).validate() }
    }
}
