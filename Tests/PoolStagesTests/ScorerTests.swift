import Foundation
import Imaging
import Models
import Random
import TensorCore
import Testing
import World
@testable import PoolStages

private func render(_ subject: Subject, _ background: Background) throws -> Image {
    try Renderer.render(RenderRequest(subject: subject, scene: Scene(background: background), size: 16)).image
}

@Test func patchQualityOfTheReferenceItselfIsOneAndOthersLower() throws {
    let vit = try ViT(config: Sandbox.vision, key: RNGKey(seed: 3))
    let a = Subject(category: ObjectCategory.allCases[0], instance: 0)
    let b = Subject(category: ObjectCategory.allCases[1], instance: 1)
    let ref = try Renderer.render(RenderRequest(subject: a, scene: .clean, size: 16)).image
    let q = PatchQualityScorer(block: 5).scores(vit, reference: ref, images: [ref, try render(b, .forest)])
    #expect(q.count == 2)
    #expect(abs(q[0] - 1) < 1e-5)
    #expect(q[1] < q[0] && q[1] >= 0)
    // Without masks every reference cell matches itself, so only the reference scores exactly 1.
    let all = PatchQualityScorer(block: 2, referenceForeground: .none, generatedForeground: .none)
        .scores(vit, reference: ref, images: [ref, try render(b, .forest)])
    #expect(abs(all[0] - 1) < 1e-5 && all[1] < 1 - 1e-4)
}

@Test func scorerSimilaritiesOfTheReferenceAreOne() throws {
    let vit = try ViT(config: Sandbox.vision, key: RNGKey(seed: 3))
    let clip = try CLIPModel(config: Sandbox.clipConfig, key: RNGKey(seed: 4))
    let s = PoolScorer(vit: vit, clip: clip, patchQuality: PatchQualityScorer())
    #expect(s.available == ["clip_image", "clip_text", "patch_quality", "vit_cls"])
    let subject = Subject(category: ObjectCategory.allCases[0], instance: 0)
    let ref = try Renderer.render(RenderRequest(subject: subject, scene: .clean, size: 16)).image
    let other = try render(Subject(category: ObjectCategory.allCases[2], instance: 3), .snow)
    let out = try s.score(reference: ref, images: [ref, other], prompt: "a photo of a \(subject.category.noun) in the snow")
    #expect(abs(out[0]["vit_cls"]! - 1) < 1e-5 && abs(out[0]["clip_image"]! - 1) < 1e-5)
    #expect(out[1]["vit_cls"]! < 1 - 1e-6 && out[1]["clip_image"]! < 1 - 1e-6)
    #expect(out.allSatisfy { (-1...1).contains($0["clip_text"]!) })
    #expect(PoolScorer(vit: nil, clip: clip).available == ["clip_image", "clip_text"])
}

@Test func badPatchQualitySettingsNameTheKey() {
    #expect(throws: PoolError.badConfig(key: "pq_normalization", reason: "`zscore` is not one of [\"cosine\", \"min-max\"]")) {
        try PatchQualityScorer.parse(block: 7, normalization: "zscore", fgReference: "border", fgGenerated: "none",
                                     borderThreshold: 40, cellThreshold: 0.25)
    }
    do {
        _ = try PatchQualityScorer.parse(block: 7, normalization: "cosine", fgReference: "grabcut", fgGenerated: "none",
                                         borderThreshold: 40, cellThreshold: 0.25)
        Issue.record("accepted an unknown estimator")
    } catch { #expect("\(error)".contains("pq_fg_reference")) }
}

/// The `segmenter` estimator in the scorer: a segmenter that sees no object anywhere (conv_out bias -20, weights 0)
/// leaves no generated foreground cell, so the mean over foreground falls back to every cell, each q_g = 1
/// (METHODS 2: background cells are 1); one that sees object everywhere (+20) scores like `none`.
@Test func theSegmenterEstimatorMasksGeneratedImagesWithTheModel() throws {
    let vit = try ViT(config: Sandbox.vision, key: RNGKey(seed: 3))
    func segmenter(bias: Float) throws -> Segmenter {
        let s = try Segmenter(config: .xs, key: RNGKey(seed: 7))
        s.convOut.weight.value = Tensor(zeros: s.convOut.weight.shape)
        s.convOut.bias!.value = Tensor(shape: [1], scalars: [bias])
        return s
    }
    let a = Subject(category: ObjectCategory.allCases[0], instance: 0)
    let ref = try Renderer.render(RenderRequest(subject: a, scene: .clean, size: 16)).image
    let images = [try render(Subject(category: ObjectCategory.allCases[1], instance: 1), .forest), try render(a, .desert)]
    let pq = try PatchQualityScorer.parse(block: 2, normalization: "cosine", fgReference: "border", fgGenerated: "segmenter",
                                          borderThreshold: 40, cellThreshold: 0.25)
    #expect(pq.needsSegmenter && pq.generatedForeground == .segmenter)
    #expect(pq.scores(vit, segmenter: try segmenter(bias: -20), reference: ref, images: images) == [1, 1])
    let none = PatchQualityScorer(block: 2, generatedForeground: .none).scores(vit, reference: ref, images: images)
    #expect(pq.scores(vit, segmenter: try segmenter(bias: 20), reference: ref, images: images) == none)
    #expect(none.allSatisfy { $0 < 1 })
    let scorer = PoolScorer(vit: vit, clip: nil, patchQuality: pq, segmenter: try segmenter(bias: -20))
    #expect(try scorer.score(reference: ref, images: images, prompt: "a mug").map { $0["patch_quality"] } == [1, 1])
}
