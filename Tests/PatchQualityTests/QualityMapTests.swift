import Testing
import TensorCore
@testable import PatchQuality

/// Quality maps on hand-made features.
@Suite struct QualityMapTests {
    /// Four cells (2x2) with orthogonal-ish distinct features in 3-D.
    static func feats(_ rows: [[Float]]) -> PatchFeatures {
        PatchFeatures(rows: 2, columns: 2, dim: rows[0].count, raw: rows.flatMap { $0 })
    }
    static let base: [[Float]] = [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0]]

    @Test func identicalImagesGiveAllOnes() {
        let f = Self.feats(Self.base)
        for n in QualityNormalization.allCases {
            let q = QualityMaps(generated: f, reference: f, normalization: n)
            #expect(q.qg.allSatisfy { abs($0 - 1) < 1e-6 }, "\(n): \(q.qg)")
            #expect(q.qr.allSatisfy { abs($0 - 1) < 1e-6 }, "\(n): \(q.qr)")
        }
    }

    @Test func permutedPatchesStillMatchButAForeignPatchDoesNot() {
        let r = Self.feats(Self.base)
        // Generated: the same patches in another order, except cell 3 is replaced by (-1, 0, 0).
        let g = Self.feats([[0, 0, 1], [1, 0, 0], [0, 1, 0], [-1, 0, 0]])
        let q = QualityMaps(generated: g, reference: r)
        #expect(q.qg[0] == 1 && q.qg[1] == 1 && q.qg[2] == 1)
        // max cos of (-1,0,0) with the reference: with (0,1,0) and (0,0,1) it is 0 -> (0 + 1) / 2.
        #expect(abs(q.qg[3] - 0.5) < 1e-6)
        // Reference cell 3, (1,1,0)/sqrt2, best match (1,0,0) or (0,1,0): cos = 1/sqrt2.
        #expect(abs(q.qr[3] - Float((1 / 2.0.squareRoot() + 1) / 2)) < 1e-6)
        #expect(q.qr[0] == 1 && q.qr[1] == 1 && q.qr[2] == 1)
        let mm = QualityMaps(generated: g, reference: r, normalization: .minMax)
        #expect(mm.qg == [1, 1, 1, 0])
    }

    @Test func backgroundCellsGetOneAndTheMaxSkipsTheOtherImagesBackground() {
        let r = Self.feats(Self.base)
        let g = Self.feats([[1, 0, 0], [0, 1, 0], [0, 0, 1], [-1, 0, 0]])
        // Reference cell 0 (1,0,0) is background: generated cell 0 may not match it.
        let q = QualityMaps(generated: g, reference: r, generatedForeground: [true, true, true, false],
                            referenceForeground: [false, true, true, true])
        #expect(q.qg[3] == 1)                                            // generated background
        #expect(q.qr[0] == 1)                                            // reference background
        // generated (1,0,0) vs reference fg {(0,1,0), (0,0,1), (1,1,0)/sqrt2}: best 1/sqrt2.
        #expect(abs(q.qg[0] - Float((1 / 2.0.squareRoot() + 1) / 2)) < 1e-6)
        #expect(q.qg[1] == 1 && q.qg[2] == 1)
    }

    @Test func foregroundMeanScorer() {
        let r = Self.feats(Self.base)
        let g = Self.feats([[0, 0, 1], [1, 0, 0], [0, 1, 0], [-1, 0, 0]])
        let q = QualityMaps(generated: g, reference: r)                           // q_g = [1, 1, 1, 0.5]
        #expect(abs(q.meanGeneratedQuality() - 0.875) < 1e-6)
        #expect(abs(q.meanGeneratedQuality(foreground: [false, false, true, true]) - 0.75) < 1e-6)
        #expect(abs(q.meanGeneratedQuality(foreground: [false, false, false, false]) - 0.875) < 1e-6)
    }

    @Test func upsampleIsBilinearWithPyTorchCorners() {
        // F.interpolate(torch.tensor([[[[0., 1.], [2., 3.]]]]), size=(4, 4), mode="bilinear")
        let up = QualityMaps.upsample([0, 1, 2, 3], rows: 2, columns: 2, height: 4, width: 4)
        let want: [Float] = [0, 0.25, 0.75, 1, 0.5, 0.75, 1.25, 1.5, 1.5, 1.75, 2.25, 2.5, 2, 2.25, 2.75, 3]
        #expect(zip(up, want).allSatisfy { abs($0 - $1) < 1e-6 }, "\(up)")
    }

    @Test func patchMaskCoverage() {
        // 4x4 pixels, patch 2: one full cell, one quarter-covered cell.
        var px = [Float](repeating: 0, count: 16)
        for (y, x) in [(0, 0), (0, 1), (1, 0), (1, 1), (3, 3)] { px[y * 4 + x] = 1 }
        #expect(PatchMask.cells(px, width: 4, height: 4, patch: 2, threshold: 0.5) == [true, false, false, false])
        #expect(PatchMask.cells(px, width: 4, height: 4, patch: 2, threshold: 0.2) == [true, false, false, true])
    }
}

@Suite struct FeatureBlockTests {
    @Test func theOriginalViTIsReadAtItsLastBlockAndTheFinetunedAtTheConfiguredOne() {
        // PatchDPO Table 4's weak baseline: the original model's last feature map; the finetuned model at block 7.
        #expect(FeatureBlock.block(variant: "original", configured: 7, depth: 12) == 12)
        #expect(FeatureBlock.block(variant: "finetuned", configured: 7, depth: 12) == 7)
        #expect(FeatureBlock.block(variant: "finetuned", configured: 9, depth: 4) == 4)
        #expect(FeatureBlock.block(variant: "original", configured: 2, depth: 4) == 4)
    }
}
