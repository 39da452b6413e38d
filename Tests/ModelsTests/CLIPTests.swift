import Foundation
import Testing
import Random
import TensorCore
import Autograd
import NN
import Optim
@testable import Models
import TestSupport

/// A tiny pair for the CLIP tests: 8x8 images (4 patch tokens), width 16, and the xs text encoder.
let tinyCLIPConfig = CLIPConfig(
    vision: ViTConfig(imageSize: 8, patchSize: 4, width: 16, depth: 2, heads: 2, mlpDim: 32),
    text: .xs, embedDim: 8)

/// Four distinct captions for the xs text encoder (vocabulary 32, 8 positions).
let tinyCaptions: [[Int32]] = [[2, 4, 5, 3, 0, 0, 0, 0], [2, 6, 7, 8, 3, 0, 0, 0],
                               [2, 9, 3, 0, 0, 0, 0, 0], [2, 10, 11, 12, 13, 3, 0, 0]]

@Suite struct CLIPTests {
    @Test func keysNestTheTowersUnderHuggingFaceNames() throws {
        let clip = try CLIPModel(config: .xs, key: RNGKey(seed: 1))
        let text = try TextEncoder(config: .xs, key: RNGKey(seed: 1)), vit = try ViT(config: .xs, key: RNGKey(seed: 1))
        let want: [(String, [Int])] = [("logit_scale", [])]
            + text.namedParameters().map { ("text_model.\($0.0)", $0.1.shape) }
            + vit.namedParameters().map { ("vision_model.\($0.0)", $0.1.shape) }
            + [("visual_projection.weight", [16, 32]), ("text_projection.weight", [16, 16])]
        EncoderTestSupport.expectKeys(clip, want)
    }

    @Test func logitsAreScaledCosinesAndLossIsSymmetricCrossEntropy() throws {
        let clip = try CLIPModel(config: tinyCLIPConfig, key: RNGKey(seed: 2))
        var rng = TestRNG(seed: 3)
        let images = Variable(rng.tensor([4, 3, 8, 8]))
        let (u, v, logits, loss) = withNoGrad {
            (clip.imageEmbeddings(images).value, clip.textEmbeddings(tinyCaptions).value,
             clip.logits(images: images, ids: tinyCaptions).value, clip.contrastiveLoss(images: images, ids: tinyCaptions).value)
        }
        let e = 8, b = 4, scale = Foundation.exp(Double(clip.config.logitScaleInit))
        for r in 0..<b {
            let nu = (0..<e).reduce(0.0) { $0 + Double(u.scalars[r * e + $1] * u.scalars[r * e + $1]) }
            #expect(abs(nu - 1) < 1e-5, "image embedding \(r) has squared norm \(nu)")
        }
        // Reference in Double: logits_ij = exp(s) <u_i, v_j>; L = (CE rows + CE columns) / 2.
        var ref = [[Double]](repeating: [Double](repeating: 0, count: b), count: b)
        for i in 0..<b { for j in 0..<b {
            ref[i][j] = scale * (0..<e).reduce(0.0) { $0 + Double(u.scalars[i * e + $1]) * Double(v.scalars[j * e + $1]) }
        } }
        EncoderTestSupport.expectMatches("logits", logits, Tensor(shape: [b, b], scalars: ref.flatMap { $0.map(Float.init) }),
                                         atol: 1e-5, rtol: 1e-5)
        func ce(_ row: [Double], _ target: Int) -> Double {
            let m = row.max()!
            return m + Foundation.log(row.reduce(0) { $0 + Foundation.exp($1 - m) }) - row[target]
        }
        let rows = (0..<b).reduce(0.0) { $0 + ce(ref[$1], $1) } / Double(b)
        let cols = (0..<b).reduce(0.0) { acc, j in acc + ce((0..<b).map { ref[$0][j] }, j) } / Double(b)
        #expect(loss.shape == [])
        #expect(abs(Double(loss.scalars[0]) - (rows + cols) / 2) < 1e-5, "loss \(loss.scalars[0]) vs reference \((rows + cols) / 2)")
        #expect(abs(rows - cols) > 1e-6, "the test must distinguish the two directions")
    }

    @Test func trainingAlignsMatchedPairs() throws {
        let clip = try CLIPModel(config: tinyCLIPConfig, key: RNGKey(seed: 4))
        var rng = TestRNG(seed: 5)
        let images = Variable(rng.tensor([4, 3, 8, 8]))
        var opt = AdamW(learningRate: 3e-3, weightDecay: 0)
        let first = withNoGrad { clip.contrastiveLoss(images: images, ids: tinyCaptions).value.scalars[0] }
        for _ in 0..<25 {
            clip.zeroGrad()
            clip.contrastiveLoss(images: images, ids: tinyCaptions).backward()
            clip.step(&opt)
            clip.clampLogitScale()
        }
        let logits = withNoGrad { clip.logits(images: images, ids: tinyCaptions).value }
        let last = withNoGrad { clip.contrastiveLoss(images: images, ids: tinyCaptions).value.scalars[0] }
        #expect(last < 0.5 * first, "loss \(first) -> \(last) after 25 AdamW steps")
        for i in 0..<4 {
            let row = (0..<4).map { logits.scalars[i * 4 + $0] }
            #expect(row.firstIndex(of: row.max()!) == i, "image \(i) should score its own caption highest: \(row)")
        }
    }

    @Test func logitScaleIsClampedToLog100() throws {
        let clip = try CLIPModel(config: .xs, key: RNGKey(seed: 6))
        clip.logitScale.value = Tensor(scalar: 7)
        clip.clampLogitScale()
        #expect(abs(clip.logitScale.value.scalars[0] - Float(Foundation.log(100.0))) < 1e-6)
        clip.logitScale.value = Tensor(scalar: -1)
        clip.clampLogitScale()
        #expect(clip.logitScale.value.scalars[0] == 0)
    }

    @Test func configRejectsAHeadOnTheImageTower() {
        var config = CLIPConfig.xs
        config.vision.classes = 10
        #expect(throws: EncoderError.self) { try CLIPModel(config: config, key: RNGKey(seed: 0)) }
    }
}
