import Autograd
import Models
import NN
import Random
import TensorCore
import Testing

/// Finite-difference checks of selected parameters through the whole xs U-Net (and the resampler
/// feeding it): L = sum(out * w) for a fixed random w; along a random direction d,
/// <dL/dtheta, d> vs (L(theta + h d) - L(theta - h d)) / 2h with h = 1e-2, accumulated in Double.
/// Tolerance |a - n| <= 1e-3 (1 + S) + 3e-2 max(|a|, |n|), S = sum |out * w| (float32 forward).
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

    func check(_ unet: UNet2DConditionModel, keys: [String]) throws {
        let resampler = try Resampler(config: .xs, key: RNGKey(seed: 12))
        let k = RNGKey(seed: 13)
        let x = Self.tensor([1, 3, 8, 8], k.fold(in: "x"))
        let text = Self.tensor([1, 3, 128], k.fold(in: "text"))
        let tokens = Self.tensor([1, 5, 32], k.fold(in: "tokens"))
        func run() -> Variable {
            let ip = resampler.forward(Variable(tokens))
            return unet.forward(Variable(x), timesteps: [321], text: Variable(text), imageTokens: ip, ipScale: 0.8)
        }
        let rkeys = ["latents", "layers.0.0.to_kv.weight", "layers.1.1.1.weight", "norm_out.bias"]
        let params = Dictionary(uniqueKeysWithValues: unet.namedParameters())
        let rparams = Dictionary(uniqueKeysWithValues: resampler.namedParameters())
        let checked = keys.map { ("unet.\($0)", params[$0]!) } + rkeys.map { ("resampler.\($0)", rparams[$0]!) }

        let out = run()
        let w = Self.tensor(out.shape, k.fold(in: "w"))
        func loss() -> Double {
            let y = withNoGrad { run() }
            return zip(y.value.scalars, w.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        }
        let s = zip(out.value.scalars, w.scalars).reduce(0.0) { $0 + abs(Double($1.0) * Double($1.1)) }
        let grads = valueAndGrad(of: { (out * Variable(w)).sum() }, at: checked.map(\.1)).grads
        let h: Float = 1e-2
        for ((name, p), g) in zip(checked, grads) {
            let d = Self.tensor(p.shape, k.fold(in: name)), v0 = p.value
            p.value = Tensor(shape: v0.shape, scalars: zip(v0.scalars, d.scalars).map { $0 + h * $1 })
            let lp = loss()
            p.value = Tensor(shape: v0.shape, scalars: zip(v0.scalars, d.scalars).map { $0 - h * $1 })
            let lm = loss()
            p.value = v0
            let numeric = (lp - lm) / (2 * Double(h))
            let analytic = zip(g.scalars, d.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            let tol = 1e-3 * (1 + s) + 3e-2 * max(abs(analytic), abs(numeric))
            #expect(abs(analytic - numeric) <= tol, "\(name): analytic \(analytic) vs numeric \(numeric) (tol \(tol))")
            #expect(g.scalars.contains { $0 != 0 }, "\(name): zero gradient")
        }
    }
}
