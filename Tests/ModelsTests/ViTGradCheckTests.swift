import Testing
import Random
import TensorCore
import Autograd
import NN
@testable import Models
import TestSupport

/// Finite-difference checks through whole encoders (all parameters of tiny models, and the image
/// input). Weights are redrawn at std 0.3 first so no path is negligible (the timm init of 0.02
/// would make most directional derivatives tiny and the check weak).
@Suite struct ViTGradCheckTests {
    static func randomize(_ m: some Module, seed: UInt64) {
        var rng = TestRNG(seed: seed)
        for (key, p) in m.namedParameters() {
            let t = rng.tensor(p.shape, -0.5, 0.5)
            p.value = key.contains("norm") && key.hasSuffix("weight") ? Kernels.addScalar(t, 1) : t
        }
    }

    @Test func vitTapsFinalAndLogits() throws {
        let vit = try ViT(config: ViTConfig(imageSize: 8, patchSize: 4, width: 8, depth: 2, heads: 2, mlpDim: 16, classes: 3),
                          key: RNGKey(seed: 1))
        Self.randomize(vit, seed: 2)
        var rng = TestRNG(seed: 3)
        let n = moduleGradCheck(vit, inputs: [rng.tensor([2, 3, 8, 8])], seed: 7) { xs in
            let out = vit.forward(xs[0], taps: [1])
            let logits = vit.head!(out.classToken)                        // [2, 3]
            return concat([try! #require(out.taps[1]).reshaped([2, -1]), out.final.reshaped([2, -1]), logits], axis: 1)
        }
        #expect(n == vit.namedParameters().count + 1)
    }

    @Test func vitWithConvStem() throws {
        let vit = try ViT(config: ViTConfig(imageSize: 8, patchSize: 4, width: 8, depth: 1, heads: 2, mlpDim: 16, classes: 3,
                                            stemChannels: [4, 5]), key: RNGKey(seed: 1))
        Self.randomize(vit, seed: 4)
        var rng = TestRNG(seed: 5)
        let n = moduleGradCheck(vit, inputs: [rng.tensor([2, 3, 8, 8])], seed: 9) { xs in
            let out = vit.forward(xs[0], taps: [1])
            return concat([try! #require(out.taps[1]).reshaped([2, -1]), vit.head!(out.classToken)], axis: 1)
        }
        #expect(n == vit.namedParameters().count + 1)
    }

    @Test func textEncoderStatesAndPooled() throws {
        let enc = try TextEncoder(config: TextEncoderConfig(vocabSize: 12, maxLength: 5, width: 8, depth: 2, heads: 2, mlpDim: 16),
                                  key: RNGKey(seed: 4))
        Self.randomize(enc, seed: 5)
        let ids: [[Int32]] = [[2, 5, 3, 0, 0], [2, 7, 11, 4, 3]]
        let n = moduleGradCheck(enc, seed: 7) { _ in
            let (states, pooled) = enc.forward(ids)
            return concat([states.reshaped([2, -1]), pooled], axis: 1)
        }
        #expect(n == enc.namedParameters().count)
    }

    @Test func clipContrastiveLoss() throws {
        let clip = try CLIPModel(config: tinyCLIPConfig, key: RNGKey(seed: 6))
        Self.randomize(clip, seed: 7)
        clip.logitScale.value = Tensor(scalar: 0.5)
        var rng = TestRNG(seed: 8)
        let keys: Set<String> = ["logit_scale", "visual_projection.weight", "text_projection.weight",
                                 "vision_model.blocks.1.attn.qkv.weight", "text_model.blocks.0.attn.to_k.weight",
                                 "text_model.token_embedding.weight", "vision_model.cls_token"]
        let n = moduleGradCheck(clip, keys: keys, inputs: [rng.tensor([4, 3, 8, 8])], seed: 7) { xs in
            clip.contrastiveLoss(images: xs[0], ids: tinyCaptions)
        }
        #expect(n == keys.count + 1)
    }
}
