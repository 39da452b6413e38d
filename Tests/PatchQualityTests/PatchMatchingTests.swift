import Testing
import TestSupport
import World
@testable import PatchQuality

@Suite struct PatchMatchingTests {
    /// Random distinct features on a side x side grid.
    static func randomFeatures(side: Int, dim: Int = 8, seed: UInt64) -> PatchFeatures {
        var rng = TestRNG(seed: seed)
        let raw = (0..<(side * side * dim)).map { _ in rng.uniform() }
        return PatchFeatures(rows: side, columns: side, dim: dim, raw: raw)
    }

    @Test func identityHomographyScoresHundredPercent() {
        let f = Self.randomFeatures(side: 8, seed: 3)
        let c = PatchMatching.match(f, f, homography: .identity, patch: 4)
        #expect(c.total == 64 && c.correct == 64 && c.percent == 100)
    }

    @Test func shiftByOneCellIsScoredAgainstTheShiftedCell() {
        let side = 4, p = 4
        let f1 = Self.randomFeatures(side: side, seed: 5)
        // Image k = image 1 moved right by one cell: cell (r, c) of image k shows cell (r, c - 1) of image 1.
        var raw = [Float](repeating: 0, count: f1.values.count)
        let d = f1.dim
        for r in 0..<side { for c in 1..<side { for j in 0..<d { raw[(r * side + c) * d + j] = f1.values[(r * side + c - 1) * d + j] } } }
        for r in 0..<side { for j in 0..<d { raw[(r * side) * d + j] = Float(j == 0 ? 1 : 0) } }
        let fk = PatchFeatures(rows: side, columns: side, dim: d, raw: raw)
        let h = Homography.translation(Double(p), 0)
        let c = PatchMatching.match(f1, fk, homography: h, patch: p)
        #expect(c.total == side * (side - 1))        // the last column maps outside
        #expect(c.correct == c.total)
        // Scoring the same features with the identity homography is wrong everywhere the shift matters,
        // except within one cell.
        let wrong = PatchMatching.match(f1, fk, homography: .identity, patch: p)
        #expect(wrong.correct < wrong.total)
        let near = PatchMatching.match(f1, fk, homography: .identity, patch: p, tolerance: 1)
        #expect(near.correct >= side * (side - 1))
    }

    /// Cell (c) covers x in [4c - 0.5, 4c + 3.5): its centre 4c + 1.5 moved by 0.6 px (or 1.9 px) is
    /// still inside it, moved by 2.1 px it lies in cell c + 1.
    @Test func subCellShiftsUseTheHPatchesPixelConvention() {
        let f = Self.randomFeatures(side: 4, seed: 7)
        for dx in [0.6, 1.9] {
            let c = PatchMatching.match(f, f, homography: .translation(dx, 0), patch: 4)
            #expect(c.total == 16 && c.correct == 16, "dx \(dx): \(c)")
        }
        let moved = PatchMatching.match(f, f, homography: .translation(2.1, 0), patch: 4)
        #expect(moved.total == 12 && moved.correct == 0)
    }

    @Test func rescaledHomographyMapsPixelCentres() {
        // Same size: identity stays identity. Halving both images: a shift of 8 px becomes 4 px.
        let same = PatchMatching.rescaled(.identity, from1: 64, 64, to1: 64, 64, fromK: 64, 64, toK: 64, 64)
        let (x, y) = same.apply(10, 20)
        #expect(abs(x - 10) < 1e-9 && abs(y - 20) < 1e-9)
        let half = PatchMatching.rescaled(.translation(8, 0), from1: 64, 64, to1: 32, 32, fromK: 64, 64, toK: 32, 32)
        let (hx, hy) = half.apply(10, 20)
        #expect(abs(hx - 14) < 1e-9 && abs(hy - 20) < 1e-9)
    }
}

/// The evaluator end to end on a ViT: a sequence of six identical images with identity homographies
/// scores 100% at every block, also when the images (32 px) are larger than the ViT (16 px) and the
/// homographies are rescaled; a viewpoint sequence scores less than that.
@Test func evaluatorScoresIdenticalImagesFullyAtEveryBlock() throws {
    let vit = try Fixture.randomized(.xs, seed: 12)
    let base = try HPatches.makeIllumination(name: "i_same", seed: 4, size: 32)
    var same = base                                                    // illumination: H = identity
    same.images = Array(repeating: base.images[0], count: 6)
    let rows = MatchingEvaluator.evaluate(vit, sequences: [same], blocks: [1, 3], source: "test", model: "m")
    #expect(rows.map(\.block) == [1, 3])
    for r in rows {
        #expect(r.exact == MatchCount(correct: 80, total: 80) && r.within1.percent == 100 && r.illuminationExact.total == 80)
        #expect(r.viewpointExact.total == 0)
    }
    let view = try HPatches.makeViewpoint(name: "v_x", seed: 4, size: 32)
    let v = MatchingEvaluator.evaluate(vit, sequences: [view], blocks: [3], source: "test", model: "m")[0]
    #expect(v.exact.total > 0 && v.exact.percent < 100 && v.within1.correct >= v.exact.correct)
}
