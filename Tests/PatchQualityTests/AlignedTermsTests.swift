import Imaging
import Testing
import World
@testable import PatchQuality

/// The aligned quality's image terms (`AlignedQuality.withTerms`, `aligned_terms = "features+pixels+contrast"`): each
/// term by hand on 8 x 8 images of 4 x 4 cells, background cells kept at 1, and the defect benchmark's blurred decals,
/// which q_a sees poorly and the contrast term sees.
@Suite struct AlignedTermsTests {
    /// An 8 x 8 RGB image: `f(x, y)` gives each pixel's grey level.
    static func image(_ f: (Int, Int) -> UInt8) throws -> Image {
        try Image(width: 8, height: 8, channels: 3, pixels: (0..<64).flatMap { i in Array(repeating: f(i % 8, i / 8), count: 3) })
    }

    @Test func thePixelTermIsOneMinusTheMeanAbsoluteDifference() throws {
        let a = try Self.image { _, _ in 100 }
        let b = try Self.image { x, y in x >= 4 && y < 4 ? 151 : 100 }      // cell 1 (top right) brighter by 51 = 0.2 x 255
        #expect(AlignedQuality.pixelTerm(a, a, patch: 4) == [1, 1, 1, 1])
        let t = AlignedQuality.pixelTerm(a, b, patch: 4)
        #expect(t[0] == 1 && t[2] == 1 && t[3] == 1 && abs(t[1] - 0.8) < 1e-6, "\(t)")
    }

    @Test func theContrastTermIsTheKeptShareOfTheExpectedCellsEdges() throws {
        let flat = try Self.image { _, _ in 100 }
        let stripes = try Self.image { x, _ in x % 2 == 0 ? 40 : 200 }      // a 1-px stripe in every cell
        // Generated flat where stripes were expected: E_a = 0, E_b from the stripes' steps to the right (none past the edge).
        let t = AlignedQuality.contrastTerm(flat, stripes, patch: 4)
        // Per row of a cell: 4 steps of 160 in a left-hand cell, 3 in a right-hand one; no vertical steps. Mean over 16 pixels.
        let left = Float(4 * 4 * 160 * 160) / 16, right = Float(4 * 3 * 160 * 160) / 16
        let floor = AlignedQuality.contrastFloor
        #expect(abs(t[0] - floor / (left + floor)) < 1e-6 && abs(t[1] - floor / (right + floor)) < 1e-6, "\(t)")
        // Sharper than expected is not penalised, and equal images read 1.
        #expect(AlignedQuality.contrastTerm(stripes, flat, patch: 4) == [1, 1, 1, 1])
        #expect(AlignedQuality.contrastTerm(stripes, stripes, patch: 4) == [1, 1, 1, 1])
    }

    @Test func theTermsMultiplyQaOnTheForegroundAndLeaveTheBackgroundAtOne() throws {
        let a = try Self.image { _, _ in 100 }
        let b = try Self.image { x, y in x >= 4 && y < 4 ? (x % 2 == 0 ? 151 : 100) : 100 }
        let qa: [Float] = [0.9, 0.8, 0.7, 1]
        let fg = [true, true, false, false]
        #expect(AlignedQuality.withTerms(qa, generated: a, expected: b, patch: 4, foreground: fg, terms: .features) == qa)
        let q = AlignedQuality.withTerms(qa, generated: a, expected: b, patch: 4, foreground: fg, terms: .featuresPixelsContrast)
        let pixel = AlignedQuality.pixelTerm(a, b, patch: 4), contrast = AlignedQuality.contrastTerm(a, b, patch: 4)
        #expect(pixel[1] < 1 && contrast[1] < 1)
        for i in 0..<2 { #expect(abs(q[i] - qa[i] * pixel[i] * contrast[i].squareRoot()) < 1e-6, "cell \(i): \(q)") }
        #expect(q[2] == 1 && q[3] == 1, "\(q)")
    }

    /// Blurred decals keep a cell's colours and most of its features at 32 px, so q_a (here on raw-pixel features) ranks
    /// them worse than the terms do; the benchmark's rows with terms are q_a with `withTerms` applied per sample.
    @Test func theTermsSeeBlurredDecalsBetterThanQaAlone() throws {
        let samples = try DefectBenchmark.samples(count: 48, seed: 11, size: 32).filter { $0.kind == "blur-decal" }
        #expect(samples.count >= 8)
        let features = samples.map { (generated: ObjectAlignmentTests.pixelFeatures($0.generated), reference: ObjectAlignmentTests.pixelFeatures($0.reference)) }
        let images = DefectBenchmark.expectedImages(samples)
        let expected = images.map(ObjectAlignmentTests.pixelFeatures)
        let qa = DefectBenchmark.evaluateByKind(features: features, samples: samples, patch: 4, size: 32, normalization: .cosine,
                                                expected: expected).all
        let terms = DefectBenchmark.evaluateByKind(features: features, samples: samples, patch: 4, size: 32, normalization: .cosine,
                                                   expected: expected, expectedImages: images, alignedTerms: .featuresPixelsContrast).all
        let a = try #require(qa.auroc), t = try #require(terms.auroc)
        #expect(t > a + 0.03, "with terms \(t) vs q_a \(a)")
        let cells = DefectBenchmark.cells(features: features, samples: samples, patch: 4, size: 32, normalization: .cosine, expected: expected,
                                          expectedImages: images, alignedTerms: .featuresPixelsContrast, foregroundThreshold: 0.5, defectThreshold: 0.1)
        let plain = DefectBenchmark.cells(features: features, samples: samples, patch: 4, size: 32, normalization: .cosine, expected: expected,
                                          foregroundThreshold: 0.5, defectThreshold: 0.1)
        for j in samples.indices {
            #expect(cells[j].qg == AlignedQuality.withTerms(plain[j].qg, generated: samples[j].generated, expected: images[j], patch: 4,
                                                            foreground: plain[j].foreground, terms: .featuresPixelsContrast))
        }
    }
}
