import Foundation
import Testing
import Random
import TensorCore
import Autograd
import NN
@testable import Models
import TestSupport

@Suite struct ViTTests {
    static func images(_ b: Int, _ s: Int, seed: UInt64) -> Tensor {
        var rng = TestRNG(seed: seed)
        return rng.tensor([b, 3, s, s])
    }

    @Test func tapsHaveTokenShapesAndFinalIsNormOfLastBlock() throws {
        let vit = try ViT(config: .xs, key: RNGKey(seed: 2))
        let x = Variable(Self.images(2, 16, seed: 1))
        let out = withNoGrad { vit.forward(x, taps: [3, 1]) }
        #expect(out.taps.keys.sorted() == [1, 3])
        #expect(out.taps[1]?.shape == [2, 17, 32])
        #expect(out.final.shape == [2, 17, 32])
        // `final` is `norm` applied to the tokens after the last block; taps carry no final norm.
        let last = try #require(out.taps[3])
        let normed = withNoGrad { vit.norm(last) }
        EncoderTestSupport.expectMatches("final", out.final.value, normed.value, atol: 0, rtol: 0)
        let patches = out.patchTokens(after: 1)
        #expect(patches.shape == [2, 16, 32])
        let tap1 = try #require(out.taps[1]).value
        EncoderTestSupport.expectMatches("patch tokens", patches.value,
                                         Kernels.slice(tap1, axis: 1, start: 1, length: 16), atol: 0, rtol: 0)
        #expect(out.classToken.shape == [2, 32])
    }

    @Test func earlierTapsDoNotDependOnLaterBlocks() throws {
        let a = try ViT(config: .xs, key: RNGKey(seed: 2)), b = try ViT(config: .xs, key: RNGKey(seed: 2))
        b.blocks[2].mlp.fc2.weight.value = Tensor(repeating: 0.5, shape: b.blocks[2].mlp.fc2.weight.shape)
        let x = Variable(Self.images(1, 16, seed: 4))
        let (oa, ob) = withNoGrad { (a.forward(x, taps: [2, 3]), b.forward(x, taps: [2, 3])) }
        EncoderTestSupport.expectMatches("tap 2", try #require(ob.taps[2]).value, try #require(oa.taps[2]).value, atol: 0, rtol: 0)
        #expect(try #require(ob.taps[3]).value != (try #require(oa.taps[3])).value)
    }

    @Test func eachImageIsEncodedIndependentlyOfItsBatch() throws {
        let vit = try ViT(config: .xs, key: RNGKey(seed: 5))
        let both = Self.images(2, 16, seed: 6)
        let second = Tensor(shape: [1, 3, 16, 16], scalars: Array(both.scalars[(3 * 256)...]))
        let (fb, f1) = withNoGrad { (vit.forward(Variable(both)).final.value, vit.forward(Variable(second)).final.value) }
        EncoderTestSupport.expectMatches("image 1 alone vs in batch", f1, Kernels.slice(fb, axis: 0, start: 1, length: 1),
                                         atol: 1e-6, rtol: 1e-5)
    }

    @Test func patchTokensFollowRowMajorPatchOrder() throws {
        let vit = try ViT(config: .xs, key: RNGKey(seed: 7))
        var img = Self.images(1, 16, seed: 8)
        let base = withNoGrad { vit.patchEmbed(Variable(img)).value }
        img.scalars[1 * 16 + 9] += 1                     // channel 0, y = 1, x = 9: patch row 0, column 2
        let moved = withNoGrad { vit.patchEmbed(Variable(img)).value }
        let changed = (0..<16).filter { t in (0..<32).contains { base.scalars[t * 32 + $0] != moved.scalars[t * 32 + $0] } }
        #expect(changed == [2])
    }

    @Test func logitsUseTheHead() throws {
        var config = ViTConfig.xs
        config.classes = 4
        let vit = try ViT(config: config, key: RNGKey(seed: 9))
        let x = Variable(Self.images(3, 16, seed: 10))
        let logits = withNoGrad { vit.logits(x) }
        #expect(logits.shape == [3, 4])
        let head = try #require(vit.head)
        let manual = withNoGrad { head(vit.forward(x).classToken) }
        EncoderTestSupport.expectMatches("logits", logits.value, manual.value, atol: 0, rtol: 0)
    }

    @Test func avgPoolLogitsReadTheMeanPatchToken() throws {
        var config = ViTConfig.xs
        config.classes = 4
        config.pool = .avg
        let vit = try ViT(config: config, key: RNGKey(seed: 9))
        let x = Variable(Self.images(2, 16, seed: 10))
        let logits = withNoGrad { vit.logits(x) }.value
        let head = try #require(vit.head)
        let f = withNoGrad { vit.forward(x).final }.value                      // [2, 17, 32]
        var mean = [Float](repeating: 0, count: 2 * 32)
        for b in 0..<2 { for t in 1..<17 { for d in 0..<32 { mean[b * 32 + d] += f.scalars[(b * 17 + t) * 32 + d] / 16 } } }
        let manual = withNoGrad { head(Variable(Tensor(shape: [2, 32], scalars: mean))) }.value
        EncoderTestSupport.expectMatches("avg logits", logits, manual, atol: 1e-5, rtol: 1e-5)
        let token = withNoGrad { head(vit.forward(x).classToken) }.value
        #expect(zip(token.scalars, logits.scalars).contains { abs($0 - $1) > 1e-3 })
        // Records store the raw value; an unknown one does not decode.
        let json = String(decoding: try JSONEncoder().encode(config), as: UTF8.self)
        #expect(json.contains("\"pool\":\"avg\""))
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(ViTConfig.self, from: Data(json.replacingOccurrences(of: "\"avg\"", with: "\"max\"").utf8))
        }
    }

    @Test func initialisationFollowsTimm() throws {
        let vit = try ViT(config: .xs, key: RNGKey(seed: 11))
        #expect(vit.clsToken.value.scalars.allSatisfy { abs($0) < 1e-5 })
        let pos = vit.posEmbed.value.scalars
        #expect(pos.allSatisfy { abs($0) <= 0.04 } && pos.contains { abs($0) > 0.02 })
        let qkv = vit.blocks[0].attn.qkv
        #expect(qkv.weight.value.scalars.allSatisfy { abs($0) <= 0.04 })
        #expect(try #require(qkv.bias).value.scalars.allSatisfy { $0 == 0 })
        // Same key, same weights; another key, other weights.
        let again = try ViT(config: .xs, key: RNGKey(seed: 11)), other = try ViT(config: .xs, key: RNGKey(seed: 12))
        #expect(again.stateDict() == vit.stateDict())
        #expect(other.stateDict() != vit.stateDict())
    }

    @Test func invalidConfigsThrowNamingTheField() {
        #expect(throws: EncoderError.invalidConfig(model: "ViT", field: "imageSize", value: "30",
                                                   rule: "must be a positive multiple of patchSize 4")) {
            try ViT(config: ViTConfig(imageSize: 30), key: RNGKey(seed: 0))
        }
        do {
            _ = try ViT(config: ViTConfig(width: 100, heads: 3), key: RNGKey(seed: 0))
            Issue.record("width 100 with 3 heads was accepted")
        } catch {
            #expect(error.description.contains("`width` = 100") && error.description.contains("heads 3"))
        }
    }

    @Test func configDecodingFillsDefaults() throws {
        let c = try JSONDecoder().decode(ViTConfig.self, from: Data(#"{"depth": 4, "classes": 10}"#.utf8))
        var want = ViTConfig()
        want.depth = 4
        want.classes = 10
        #expect(c == want)
        let round = try JSONDecoder().decode(ViTConfig.self, from: JSONEncoder().encode(ViTConfig.xs))
        #expect(round == .xs)
    }
}
