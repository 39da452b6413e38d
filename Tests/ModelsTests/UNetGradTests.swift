import Autograd
import Models
import NN
import Random
import TensorCore
import Testing
import TestSupport

/// Finite-difference checks of selected parameters through the whole xs U-Net (and the resampler
/// feeding it) with TestSupport.parameterGradCheck: L = sum(out * w) for a fixed random w; along a random
/// normal direction d, <dL/dtheta, d> against Richardson-extrapolated central differences (h = 5e-3 and 2.5e-3),
/// accumulated in Double. Tolerance |a - n| <= 1e-4 (1 + S) + 2e-3 max(|a|, |n|), S = sum |out * w| (about 24):
/// the shared atol and a fifth of the shared rtol. Measured worst errors here: 1.8e-3 on conv_in (|a| 2.3),
/// 9.0e-4 and 8.8e-4 at |a| 0.16 and 0.13 (the float32 forward's rounding); over seeds 5, 13 and 21 every check
/// keeps a margin of at least 3. The old check, a plain central difference at h = 1e-2 (1.7% off on conv_in, its
/// curvature) under 1e-3 (1 + S) + 3e-2 max(|a|, |n|), ten times the shared tolerance, accepted about 20% on a
/// derivative of 0.16. Every parameter of both models must also receive a nonzero gradient (not only the checked ones).
struct UNetGradTests {
    static func tensor(_ shape: [Int], _ key: RNGKey, std: Float = 1) -> Tensor {
        Init.normal(shape, std: std, key: key)
    }

    @Test func selectedParametersMatchFiniteDifferences() throws {
        try check(UNet2DConditionModel(config: .xs, key: RNGKey(seed: 11)),
                  keys: ["conv_in.weight", "time_embedding.linear_1.weight",
                         "down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k_ip.weight",
                         "mid_block.attentions.0.transformer_blocks.0.attn2.to_v_ip.weight",
                         "mid_block.attentions.0.transformer_blocks.0.attn1.to_q.weight",
                         "up_blocks.1.resnets.2.conv_shortcut.weight", "up_blocks.0.attentions.1.norm.weight",
                         "up_blocks.2.resnets.0.norm1.weight", "conv_out.bias"])
    }

    /// The pooled-text class embedding (config.classEmbedInputDim) under the same check.
    @Test func classEmbeddingMatchesFiniteDifferences() throws {
        var config = UNetConfig.xs
        config.classEmbedInputDim = config.crossAttentionDim
        try check(UNet2DConditionModel(config: config, key: RNGKey(seed: 14)),
                  keys: ["class_embedding.linear_1.weight", "class_embedding.linear_2.bias", "time_embedding.linear_2.weight",
                         "down_blocks.1.resnets.0.time_emb_proj.weight"])
    }

    /// Level 0's cross-attention blocks (config.fullResolutionCrossAttention) under the same check.
    @Test func fullResolutionCrossAttentionMatchesFiniteDifferences() throws {
        var config = UNetConfig.xs
        config.fullResolutionCrossAttention = true
        try check(UNet2DConditionModel(config: config, key: RNGKey(seed: 15)),
                  keys: ["down_blocks.0.attentions.0.proj_out.weight", "down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_v_ip.weight",
                         "up_blocks.2.attentions.1.transformer_blocks.0.ff.net.2.weight", "up_blocks.2.attentions.0.proj_in.bias"])
    }

    func check(_ unet: UNet2DConditionModel, keys: [String], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let resampler = try Resampler(config: .xs, key: RNGKey(seed: 12))
        let k = RNGKey(seed: 13)
        let x = Self.tensor([1, 3, 8, 8], k.fold(in: "x"))
        let text = Self.tensor([1, 3, 128], k.fold(in: "text"))
        let tokens = Self.tensor([1, 5, 32], k.fold(in: "tokens"))
        func run() -> Variable {
            let ip = resampler.forward(Variable(tokens))
            return unet.forward(Variable(x), timesteps: [321], text: Variable(text), imageTokens: ip, ipScale: 0.8)
        }
        let all = unet.namedParameters().map { ("unet.\($0.0)", $0.1) } + resampler.namedParameters().map { ("resampler.\($0.0)", $0.1) }
        // Every parameter is reached by the backward pass (none is left out of the graph).
        let out = run()
        let w = Self.tensor(out.shape, k.fold(in: "w"))
        let grads = valueAndGrad(of: { (run() * Variable(w)).sum() }, at: all.map(\.1)).grads
        let zero = zip(all, grads).filter { !$0.1.scalars.contains { $0 != 0 } }.map(\.0.0)
        #expect(zero.isEmpty, "parameters with an all-zero gradient: \(zero)", sourceLocation: sourceLocation)

        let named = Dictionary(uniqueKeysWithValues: all)
        let rkeys = ["latents", "layers.0.0.to_kv.weight", "layers.1.1.1.weight", "norm_out.bias"]
        let checked = keys.map { "unet.\($0)" } + rkeys.map { "resampler.\($0)" }
        let n = parameterGradCheck(checked.map { ($0, named[$0]!) }, h: 5e-3, richardson: true, normal: true, rtol: 2e-3, atol: 1e-4, seed: 13,
                                   sourceLocation: sourceLocation) { _ in run() }
        #expect(n == checked.count)
    }
}
