import Imaging
import Testing
import World
@testable import PatchQuality

/// The aligned quality's machinery (issue 16 item 3): the transform estimate and the expected image on world
/// renders whose pose is known, and what the aligned comparison sees that q_g cannot.
@Suite struct ObjectAlignmentTests {
    @Test func forwardAndInverseMapsAreInverses() {
        let t = ObjectTransform(referenceCentre: (16, 15), generatedCentre: (14, 18), shift: (1, -1), scale: 0.8,
                                rotationDegrees: 23, mirrored: true)
        for (x, y) in [(3.0, 4.0), (16.0, 15.0), (30.5, 2.5)] {
            let g = t.generatedPoint(x: x, y: y), q = t.referencePoint(x: g.x, y: g.y)
            #expect(abs(q.x - x) < 1e-9 && abs(q.y - y) < 1e-9)
        }
        // The reference centre lands on the generated centre plus the shift.
        let c = t.generatedPoint(x: 16, y: 15)
        #expect(abs(c.x - 15) < 1e-12 && abs(c.y - 17) < 1e-12)
    }

    /// A mug (its handle makes the mirror visible) rendered canonically and at a known pose without perspective:
    /// the search finds the mirror, the rotation within one grid step and the scale ratio, and the expected
    /// image matches the render on the object far better than the unaligned reference.
    @Test func recoversAKnownPose() throws {
        let subject = Subject(category: .mug, instance: 19)
        let ref = try Renderer.render(RenderRequest(subject: subject, scene: .clean, pose: .canonical, size: 32))
        let pose = Pose(centerX: 0.56, centerY: 0.46, scale: 0.33, rotationDegrees: 21, flipped: true)
        let gen = try Renderer.render(RenderRequest(subject: subject, scene: Scene(background: Background.textured[0], seed: 3),
                                                    pose: pose, size: 32))
        let t = try #require(ObjectAlignment.estimate(reference: ref.image, referenceCoverage: ref.mask, generated: gen.image,
                                                      generatedCoverage: gen.mask))
        #expect(t.mirrored, "\(t.summary)")
        #expect(abs(t.rotationDegrees - 21) <= 3, "\(t.summary)")
        #expect(abs(t.scale - 0.33 / 0.38) < 0.08, "\(t.summary)")
        let expected = ObjectAlignment.expected(reference: ref.image, referenceCoverage: ref.mask, generated: gen.image, transform: t)
        let unaligned = ObjectAlignment.expected(reference: ref.image, referenceCoverage: ref.mask, generated: gen.image,
                                                 transform: ObjectTransform(referenceCentre: (16, 16), generatedCentre: (16, 16), shift: (0, 0),
                                                                            scale: 1, rotationDegrees: 0, mirrored: false))
        func objectError(_ im: Image) -> Double {
            var d = 0.0, n = 0.0
            for i in 0..<(32 * 32) where gen.mask[i] > 0.5 {
                for c in 0..<3 { d += abs(Double(im.pixels[i * 3 + c]) - Double(gen.image.pixels[i * 3 + c])) }
                n += 3
            }
            return d / n
        }
        #expect(objectError(expected) < 0.4 * objectError(unaligned), "\(objectError(expected)) vs \(objectError(unaligned))")
        // Outside the warped object the expected image is the generated one.
        #expect(expected.pixels[0..<3] == gen.image.pixels[0..<3])
    }

    @Test func emptyCoverageHasNoTransform() throws {
        let r = try Renderer.render(RenderRequest(subject: Subject(category: .ball, instance: 9), scene: .clean, pose: .canonical, size: 16))
        #expect(ObjectAlignment.estimate(reference: r.image, referenceCoverage: r.mask, generated: r.image,
                                         generatedCoverage: [Float](repeating: 0, count: 256)) == nil)
    }

    /// Shifted decals only move content the reference has, so the paper's q_g (a max over reference patches) ranks
    /// their cells near chance; the aligned q_a, which compares each cell with the expected image's cell at the
    /// same place, ranks them well. Raw-pixel cell features keep the test free of a trained ViT.
    @Test func alignedQualitySeesAShiftedDecalThatAMaxOverReferencePatchesCannot() throws {
        let samples = try DefectBenchmark.samples(count: 24, seed: 11, size: 32).filter { $0.kind == "shift-decal" }
        #expect(samples.count >= 5)
        let features = samples.map { (generated: Self.pixelFeatures($0.generated), reference: Self.pixelFeatures($0.reference)) }
        let expected = DefectBenchmark.expectedImages(samples).map(Self.pixelFeatures)
        let qg = DefectBenchmark.evaluateByKind(features: features, samples: samples, patch: 4, size: 32, normalization: .cosine).all
        let qa = DefectBenchmark.evaluateByKind(features: features, samples: samples, patch: 4, size: 32, normalization: .cosine,
                                                expected: expected).all
        let g = try #require(qg.auroc), a = try #require(qa.auroc)
        #expect(qa.positives == qg.positives && qa.negatives == qg.negatives)
        #expect(a > 0.8 && a > g + 0.15, "q_a \(a) vs q_g \(g)")
    }

    /// Each 4 x 4 cell's 48 RGB values in [-1, 1].
    static func pixelFeatures(_ image: Image) -> PatchFeatures {
        let x = PatchFeatureExtractor.tensor([image], size: 32).scalars
        var raw: [Float] = []
        for r in 0..<8 {
            for c in 0..<8 {
                for ch in 0..<3 {
                    for y in 0..<4 { for xx in 0..<4 { raw.append(x[ch * 1024 + (r * 4 + y) * 32 + c * 4 + xx]) } }
                }
            }
        }
        return PatchFeatures(rows: 8, columns: 8, dim: 48, raw: raw)
    }
}
