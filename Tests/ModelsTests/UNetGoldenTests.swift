import Autograd
import Checkpoint
import Foundation
import Models
import NN
import Random
import TensorCore
import Testing
import TestSupport

/// The tiny U-Net and resampler of scripts/golden_unet.py, loaded BY NAME from its safetensors and
/// compared element by element with its float64 NumPy forward (see Tests/Fixtures/README.md).
/// Tolerance: |a - e| <= 2e-4 + 2e-3 |e| (float32 through ~40 layers; observed errors are ~1e-5).
struct UNetGoldenTests {
    static let unetConfig = UNetConfig(blockOutChannels: [8, 16, 16], layersPerBlock: 1, crossAttentionDim: 8)
    static let resamplerConfig = ResamplerConfig(embeddingDim: 12, dim: 16, depth: 2, heads: 2, dimHead: 8,
                                                 numQueries: 4, outputDim: 8)

    struct Loaded {
        let unet: UNet2DConditionModel
        let resampler: Resampler
        let io: SafeTensorsFile
    }

    func load() throws -> Loaded {
        let weights = try UNetFixtures.safetensors("golden_unet_weights.safetensors")
        let unet = try UNet2DConditionModel(config: Self.unetConfig, key: RNGKey(seed: 9))
        try unet.loadStrict(UNetFixtures.subset(weights, prefix: "unet."), path: "golden_unet_weights.safetensors[unet.]")
        let resampler = try Resampler(config: Self.resamplerConfig, key: RNGKey(seed: 9))
        try resampler.loadStrict(UNetFixtures.subset(weights, prefix: "resampler."),
                                 path: "golden_unet_weights.safetensors[resampler.]")
        return Loaded(unet: unet, resampler: resampler, io: try UNetFixtures.safetensors("golden_unet_io.safetensors"))
    }

    @Test func resamplerMatchesNumPy() throws {
        let m = try load()
        let out = withNoGrad { m.resampler.forward(Variable(m.io.tensors["tokens"]!.tensor)) }
        expectClose(out.value, m.io.tensors["resampler_out"]!.tensor, atol: 1e-4, rtol: 1e-3, "resampler_out")
    }

    @Test func unetMatchesNumPyWithAndWithoutImageTokens() throws {
        let m = try load()
        let x = Variable(m.io.tensors["x"]!.tensor), text = Variable(m.io.tensors["text"]!.tensor)
        let t = m.io.tensors["timesteps"]!.values.map { Int($0) }
        #expect(t == [17, 803])
        // The script feeds its float32-rounded resampler output; use the same stored values.
        let ip = Variable(m.io.tensors["resampler_out"]!.tensor)
        let out = withNoGrad { m.unet.forward(x, timesteps: t, text: text, imageTokens: ip, ipScale: 0.7) }
        expectClose(out.value, m.io.tensors["unet_out"]!.tensor, atol: 2e-4, rtol: 2e-3, "unet_out")
        let noIP = withNoGrad { m.unet.forward(x, timesteps: t, text: text, imageTokens: nil, ipScale: 0.7) }
        expectClose(noIP.value, m.io.tensors["unet_out_noip"]!.tensor, atol: 2e-4, rtol: 2e-3, "unet_out_noip")
        let zeroScale = withNoGrad { m.unet.forward(x, timesteps: t, text: text, imageTokens: ip, ipScale: 0) }
        #expect(zeroScale.value == noIP.value, "ipScale 0 must equal the text-only U-Net exactly")
    }

    @Test func timestepEmbeddingFollowsDiffusers() {
        let e = timestepEmbedding([0, 10], dim: 6)
        #expect(e.shape == [2, 6])
        // t = 0: cos = 1, sin = 0. t = 10: freqs exp(-ln(1e4) i / 3) = 1, 10^(-4/3), 10^(-8/3).
        #expect(Array(e.scalars[0..<6]) == [1, 1, 1, 0, 0, 0])
        let f: [Double] = [1, pow(10, -4.0 / 3), pow(10, -8.0 / 3)]
        for i in 0..<3 {
            #expect(abs(Double(e[[1, i]]) - cos(10 * f[i])) < 1e-5)
            #expect(abs(Double(e[[1, 3 + i]]) - sin(10 * f[i])) < 1e-5)
        }
    }
}
