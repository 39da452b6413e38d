import Checkpoint
import Foundation
import Imaging
import Manifest
import Models
import Random
import Testing
import TensorCore
import World
@testable import PatchQuality

/// A segmenter with a known mask: `conv_norm_out` gives the constant 1 (scale 0, bias 1), so `conv_out`
/// (3x3, zero padding, every weight w with C w silu(1) = 1, bias -7.5) reads 9 taps inside the image
/// (logit +1.5: object), 6 on the edges and 4 in the corners (-1.5, -3.5: background): a 1-pixel
/// background frame around an object that fills the rest, whatever the image.
func frameSegmenter(_ config: SegmenterConfig = .xs) throws -> Segmenter {
    let s = try Segmenter(config: config, key: RNGKey(seed: 3))
    let c = config.channels[0]
    s.normOut.weight!.value = Tensor(zeros: [c])
    s.normOut.bias!.value = Tensor(repeating: 1, shape: [c])
    let silu1 = Float(1 / (1 + exp(-1.0)))
    s.convOut.weight.value = Tensor(repeating: 1 / (Float(c) * silu1), shape: [1, c, 3, 3])
    s.convOut.bias!.value = Tensor(shape: [1], scalars: [-7.5])
    return s
}

/// Is pixel (x, y) of a side x side image on its 1-pixel frame.
func onFrame(_ x: Int, _ y: Int, side: Int) -> Bool { x == 0 || y == 0 || x == side - 1 || y == side - 1 }

@Suite struct SegmenterEstimatorTests {
    @Test func theSegmenterEstimatorIsTheModelsThresholdedMask() throws {
        let seg = try frameSegmenter()
        let image = try Renderer.render(RenderRequest(subject: Subject(category: .mug, instance: 3),
                                                      scene: Scene(background: .forest, seed: 2), size: 16)).image
        #expect(ForegroundEstimator.segmenter.needsSegmenter && !ForegroundEstimator.border.needsSegmenter)
        let cov = ForegroundEstimator.segmenter.coverage(image, segmenter: seg)
        #expect(cov == (0..<256).map { onFrame($0 % 16, $0 / 16, side: 16) ? 0 : 1 })
        // A side that is not a multiple of the factor (15 for factor 2) is resized to 16 and read back: 15 x 15 values.
        let odd = ForegroundEstimator.segmenter.coverage(image.resizedBilinear(width: 15, height: 15), segmenter: seg)
        #expect(odd.count == 225 && odd[0] == 0 && odd[7 * 15 + 7] == 1)
    }

    /// METHODS 2: with the segmenter's mask, the generated image's background cells get q_g = 1 exactly
    /// (they no longer count against the reference's foreground), its object cells are scored.
    @Test func theSegmentersBackgroundCellsGetQualityOne() throws {
        let seg = try frameSegmenter()
        let subject = Subject(category: .backpack, instance: 11)
        let reference = try Renderer.render(RenderRequest(subject: subject, scene: .clean, size: 16)).image
        let generated = try Renderer.render(RenderRequest(subject: subject, scene: Scene(background: .brickWall, seed: 4),
                                                          pose: .random(seed: 5), size: 16)).image
        let vit = try ViT(config: .xs, key: RNGKey(seed: 21))
        let feats = PatchFeatureExtractor.features(vit, images: [reference, generated], blocks: [2])
        // 4 x 4 cells of 4 px: a frame cell has at most 12 of 16 object pixels, so at threshold 0.8 only the 4 inner cells are object.
        let fgG = PatchMask.cells(ForegroundEstimator.segmenter.coverage(generated, segmenter: seg), width: 16, height: 16, patch: 4,
                                  threshold: 0.8)
        #expect(fgG == (0..<16).map { !onFrame($0 % 4, $0 / 4, side: 4) })
        let fgR = PatchMask.cells(ForegroundEstimator.border.coverage(reference), width: 16, height: 16, patch: 4, threshold: 0.25)
        let q = QualityMaps(generated: feats[1][2]!, reference: feats[0][2]!, generatedForeground: fgG, referenceForeground: fgR)
        for i in 0..<16 where !fgG[i] { #expect(q.qg[i] == 1, "background cell \(i): \(q.qg[i])") }
        for i in 0..<16 where fgG[i] { #expect(q.qg[i] < 1, "object cell \(i): \(q.qg[i])") }
        // Without an estimator (`none`) the same background cells are scored against the reference's object.
        let all = QualityMaps(generated: feats[1][2]!, reference: feats[0][2]!, generatedForeground: nil, referenceForeground: fgR)
        #expect((0..<16).contains { !fgG[$0] && all.qg[$0] < 1 })
        // The reference's cells read only the generated object: q_r differs from the unmasked one.
        #expect(q.qr != all.qr)
    }
}

/// patch-quality with `fg_generated = "segmenter"` through the real executable.
@Suite(.serialized) struct SegmenterStageTests {
    @Test func patchQualityReadsPretrainSegmenterOnlyWhenAnEstimatorIsSegmenter() throws {
        let set = ["--set", "fg_generated=\"segmenter\""]
        // No pretrain-segmenter in this run: missing input naming the stage.
        let bare = try StageFixture(items: 1, epochs: 1)
        #expect(try bare.run("ssl-finetune-vit").status == 0)
        let missing = try bare.run("patch-quality", set)
        #expect(missing.status == 66 && missing.stderr.contains("upstream stage 'pretrain-segmenter'"), "\(missing.status): \(missing.stderr)")

        let fx = try StageFixture(items: 2, epochs: 1, segmenter: try frameSegmenter())
        #expect(try fx.run("ssl-finetune-vit").status == 0)
        // The default estimators (border, none) do not read it.
        let plain = try fx.run("patch-quality")
        #expect(plain.status == 0, "\(plain.stderr)")
        let db = try ManifestDB(path: fx.runDir.appendingPathComponent("manifest.sqlite").path)
        func inputs() throws -> [String] { try db.inputs(stageRun: try #require(try db.stageRuns(stage: "patch-quality").first).id).map(\.relativePath) }
        #expect(try !inputs().contains { $0.contains("pretrain-segmenter") })

        let pq = try fx.run("patch-quality", set + ["--set", "fg_cell_threshold=0.8"])
        #expect(pq.status == 0, "\(pq.stderr)")
        #expect(try inputs().contains("artifacts/pretrain-segmenter/segmenter.safetensors"))
        for key in ["p00000-gen-0", "p00000-gen-1", "p00001-gen-0", "p00001-gen-1"] {
            for vit in ["finetuned", "original"] {
                let qg = try #require(try SafeTensors.read(fx.artifact("patch-quality", "q/\(vit)/\(key).safetensors")).tensors["q_g_patch"])
                #expect(qg.shape == [4, 4])
                for i in 0..<16 where onFrame(i % 4, i / 4, side: 4) { #expect(qg.values[i] == 1, "\(vit) \(key) cell \(i)") }
                #expect((0..<16).contains { !onFrame($0 % 4, $0 / 4, side: 4) && qg.values[$0] < 1 }, "\(vit) \(key): \(qg.values)")
            }
        }
        // An edited segmenter file is refused as unverified input (65), naming pretrain-segmenter.
        let w = fx.artifact("pretrain-segmenter", "segmenter.safetensors")
        var bytes = try Data(contentsOf: w)
        bytes[bytes.count - 1] ^= 0xFF
        try bytes.write(to: w)
        let edited = try fx.run("patch-quality", set + ["--force"])
        #expect(edited.status == 65 && edited.stderr.contains("pretrain-segmenter"), "\(edited.status): \(edited.stderr)")
    }
}
