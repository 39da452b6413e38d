import Imaging
import Models
import Random
import World

/// A measured test of patch quality (WORLD.md "Defects"): a reference render of a subject (clean
/// background, canonical pose) and a "generated" render of the same subject (textured background,
/// random pose) with one injected local defect (recolour or blur or shift the decal, drop a stripe;
/// not swap-pattern, which repaints the whole body), with ground-truth foreground coverage of both
/// and the defect mask of the generated image.
public struct DefectSample: Sendable {
    public var reference: Image
    public var referenceCoverage: [Float]
    public var generated: Image
    public var generatedCoverage: [Float]
    public var defectMask: [UInt8]
    public var defect: String

    /// The defect without its parameters ("shift-decal(0.18,-0.12)" -> "shift-decal"): the row
    /// label of the per-kind AUROC.
    public var kind: String { Defect.kind(of: defect) }
}

/// AUROC of per-patch quality against injected defects: over the foreground cells of every
/// generated image, the score 1 - q_g (low quality = predicted defective) against the label
/// "defect-mask coverage of the cell > `defectThreshold`", pooled over samples.
public enum DefectBenchmark {
    /// `count` samples of test-split subjects, a pure function of (seed, size).
    public static func samples(count: Int, seed: UInt64, size: Int) throws -> [DefectSample] {
        var out: [DefectSample] = []
        let cats = ObjectCategory.allCases, bgs = Background.textured
        var i: UInt64 = 0
        while out.count < count {
            defer { i += 1 }
            precondition(i < UInt64(count) * 20 + 100, "DefectBenchmark: no applicable defect after \(i) subjects")
            let subject = Subject(category: cats[Int((seed &+ i) % UInt64(cats.count))], instance: (seed &+ i) * 10 + 9)
            let refReq = RenderRequest(subject: subject, scene: .clean, pose: .canonical, size: size)
            var pose = Pose.random(seed: seed &+ i, index: 1)
            pose.scale = max(pose.scale, 0.36)
            let genReq = RenderRequest(subject: subject, scene: Scene(background: bgs[Int((seed &+ i) % UInt64(bgs.count))], seed: seed &+ i),
                                       pose: pose, size: size)
            let ref = try Renderer.render(refReq), gen = try Renderer.render(genReq)
            // Local defects only: swap-pattern repaints the whole body, which is not a "local detail".
            let defects = Defect.applicable(to: subject).filter { $0 != .swapPattern }
            let d = defects[Int(RNGKey(seed: seed).fold(in: i).uint32(at: 0) % UInt32(defects.count))]
            guard let hurt = try? DefectInjector.inject(d, into: genReq, original: gen) else { continue }
            out.append(DefectSample(reference: ref.image, referenceCoverage: ref.mask, generated: hurt.image,
                                    generatedCoverage: gen.mask, defectMask: hurt.mask, defect: "\(d)"))
        }
        return out
    }

    public struct Result: Sendable, Equatable, Codable {
        /// Nil when the cells held only one class.
        public var auroc: Double?
        public var positives: Int
        public var negatives: Int
        /// The 95% percentile interval of `auroc` over `bootstrapReplicates` resamplings of the samples (cells
        /// of one image move together); nil when a resampling held one class only or none was asked for.
        public var low: Double?
        public var high: Double?

        public init(auroc: Double?, positives: Int, negatives: Int, low: Double? = nil, high: Double? = nil) {
            self.auroc = auroc; self.positives = positives; self.negatives = negatives; self.low = low; self.high = high
        }
    }

    /// Resamplings of the samples behind each AUROC's interval.
    public static let bootstrapReplicates = 400

    /// AUROC of q_g at `block` of `vit` over `samples`.
    public static func evaluate(_ vit: ViT, samples: [DefectSample], block: Int, normalization: QualityNormalization,
                                foregroundThreshold: Float = 0.5, defectThreshold: Float = 0.1) -> Result {
        evaluateByKind(vit, samples: samples, block: block, normalization: normalization,
                       foregroundThreshold: foregroundThreshold, defectThreshold: defectThreshold).all
    }

    /// AUROC over all samples and per defect kind (`DefectSample.kind`), from one feature pass. `expectedImages`
    /// (`expectedImages(_:)` of the same samples, computed once by the caller: the alignment search does not depend
    /// on the ViT or the block): score the aligned quality q_a (`AlignedQuality`) instead of q_g.
    public static func evaluateByKind(_ vit: ViT, samples: [DefectSample], block: Int, normalization: QualityNormalization,
                                      expectedImages: [Image]? = nil, alignedTerms: AlignedQuality.Terms = .features,
                                      foregroundThreshold: Float = 0.5, defectThreshold: Float = 0.1) -> (all: Result, byKind: [String: Result]) {
        let refs = PatchFeatureExtractor.features(vit, images: samples.map(\.reference), blocks: [block])
        let gens = PatchFeatureExtractor.features(vit, images: samples.map(\.generated), blocks: [block])
        let expected = expectedImages.map { PatchFeatureExtractor.features(vit, images: $0, blocks: [block]).map { $0[block]! } }
        return evaluateByKind(features: zip(gens, refs).map { ($0[block]!, $1[block]!) }, samples: samples,
                              patch: vit.config.patchSize, size: vit.config.imageSize, normalization: normalization,
                              expected: expected, expectedImages: expectedImages, alignedTerms: alignedTerms,
                              foregroundThreshold: foregroundThreshold, defectThreshold: defectThreshold)
    }

    /// Per sample, the reference object warped onto the generated image (`ObjectAlignment`, on the samples'
    /// ground-truth coverages); the generated image itself when a coverage is empty.
    public static func expectedImages(_ samples: [DefectSample], search: ObjectAlignment.Search = .init()) -> [Image] {
        samples.map { x in
            guard let t = ObjectAlignment.estimate(reference: x.reference, referenceCoverage: x.referenceCoverage, generated: x.generated,
                                                   generatedCoverage: x.generatedCoverage, search: search) else { return x.generated }
            return ObjectAlignment.expected(reference: x.reference, referenceCoverage: x.referenceCoverage, generated: x.generated, transform: t)
        }
    }

    /// The same from any cell features (generated, reference) per sample, on a `patch`-pixel grid of
    /// `size`-pixel images: how a ViT block compares with e.g. raw-pixel features. `expected`: the expected
    /// images' features per sample, to score the aligned quality q_a instead of q_g; with `alignedTerms` other than
    /// `.features`, q_a times the image terms of the samples' generated and expected images (`expectedImages`).
    public static func evaluateByKind(features: [(generated: PatchFeatures, reference: PatchFeatures)], samples: [DefectSample],
                                      patch p: Int, size s: Int, normalization: QualityNormalization, expected: [PatchFeatures]? = nil,
                                      expectedImages: [Image]? = nil, alignedTerms: AlignedQuality.Terms = .features,
                                      foregroundThreshold: Float = 0.5, defectThreshold: Float = 0.1) -> (all: Result, byKind: [String: Result]) {
        let c = cells(features: features, samples: samples, patch: p, size: s, normalization: normalization, expected: expected,
                      expectedImages: expectedImages, alignedTerms: alignedTerms,
                      foregroundThreshold: foregroundThreshold, defectThreshold: defectThreshold)
        var byKind: [String: Result] = [:]
        for kind in Set(samples.map(\.kind)) {
            byKind[kind] = score(zip(samples, c).filter { $0.0.kind == kind }.map(\.1))
        }
        return (score(c), byKind)
    }

    /// Per sample: q_g, the generated image's foreground cells and the defect labels of its cells.
    static func cells(features: [(generated: PatchFeatures, reference: PatchFeatures)], samples: [DefectSample],
                      patch p: Int, size s: Int, normalization: QualityNormalization, expected: [PatchFeatures]? = nil,
                      expectedImages: [Image]? = nil, alignedTerms: AlignedQuality.Terms = .features,
                      foregroundThreshold: Float, defectThreshold: Float) -> [(qg: [Float], foreground: [Bool], defective: [Bool])] {
        precondition(features.count == samples.count && (expected?.count ?? samples.count) == samples.count,
                     "DefectBenchmark: \(features.count) feature pairs, \(expected?.count ?? -1) expected for \(samples.count) samples")
        precondition(alignedTerms == .features || expectedImages?.count == samples.count,
                     "DefectBenchmark: aligned terms \(alignedTerms.rawValue) need the \(samples.count) expected images")
        return samples.enumerated().map { j, sample in
            precondition(sample.generated.width == s && sample.reference.width == s,
                         "DefectBenchmark: samples of width \(sample.generated.width), ViT size \(s)")
            let fgG = PatchMask.cells(sample.generatedCoverage, width: s, height: s, patch: p, threshold: foregroundThreshold)
            let fgR = PatchMask.cells(sample.referenceCoverage, width: s, height: s, patch: p, threshold: foregroundThreshold)
            let bad = PatchMask.cells(sample.defectMask, width: s, height: s, patch: p, threshold: defectThreshold)
            if let expected {
                let qa = AlignedQuality.positional(generated: features[j].generated, expected: expected[j], generatedForeground: fgG,
                                                   normalization: normalization)
                guard alignedTerms != .features, let images = expectedImages else { return (qa, fgG, bad) }
                return (AlignedQuality.withTerms(qa, generated: sample.generated, expected: images[j], patch: p, foreground: fgG, terms: alignedTerms),
                        fgG, bad)
            }
            let maps = QualityMaps(generated: features[j].generated, reference: features[j].reference, generatedForeground: fgG,
                                   referenceForeground: fgR, normalization: normalization)
            return (maps.qg, fgG, bad)
        }
    }

    /// AUROC of 1 - q_g against the defect labels over the foreground cells of every sample, with its
    /// bootstrap interval over samples (`replicates` resamplings, seeded: the same cells give the same interval).
    public static func score(_ samples: [(qg: [Float], foreground: [Bool], defective: [Bool])],
                             replicates: Int = bootstrapReplicates) -> Result {
        let perSample = samples.map { x -> (scores: [Double], labels: [Bool]) in
            precondition(x.qg.count == x.foreground.count && x.qg.count == x.defective.count,
                         "DefectBenchmark.score: \(x.qg.count) qualities, \(x.foreground.count) fg, \(x.defective.count) labels")
            let cells = (0..<x.qg.count).filter { x.foreground[$0] }
            return (cells.map { Double(1 - x.qg[$0]) }, cells.map { x.defective[$0] })
        }
        func pooled(_ indices: [Int]) -> (scores: [Double], labels: [Bool]) {
            (indices.flatMap { perSample[$0].scores }, indices.flatMap { perSample[$0].labels })
        }
        let all = pooled(Array(perSample.indices))
        let pos = all.labels.filter { $0 }.count
        var result = Result(auroc: auroc(scores: all.scores, labels: all.labels), positives: pos, negatives: all.labels.count - pos)
        guard result.auroc != nil, replicates > 0, !perSample.isEmpty else { return result }
        let key = RNGKey(seed: 0x5eed_a0c)
        var values: [Double] = []
        for r in 0..<replicates {
            let draw = (0..<perSample.count).map { i in
                Int(key.fold(in: UInt64(r)).uint32(at: UInt64(i)) % UInt32(perSample.count))
            }
            let x = pooled(draw)
            guard let a = auroc(scores: x.scores, labels: x.labels) else { return result }
            values.append(a)
        }
        values.sort()
        result.low = values[Int(0.025 * Double(replicates - 1))]
        result.high = values[Int((0.975 * Double(replicates - 1)).rounded(.up))]
        return result
    }
}
