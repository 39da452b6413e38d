import Testing
import Models
@testable import PatchQuality

@Suite struct AUROCTests {
    @Test func handComputedExample() {
        // sklearn's roc_auc_score doc example: positives 0.35, 0.8; negatives 0.1, 0.4.
        // Pairs (pos > neg): 0.35>0.1, 0.8>0.1, 0.8>0.4 -> 3 of 4.
        #expect(auroc(scores: [0.1, 0.4, 0.35, 0.8], labels: [false, false, true, true]) == 0.75)
    }

    @Test func tiesCountHalf() {
        // positive 0.5 ties negative 0.5 (1/2) and beats 0.2 (1); positive 0.9 beats both: (0.5 + 1 + 2) / 4.
        #expect(auroc(scores: [0.5, 0.5, 0.2, 0.9], labels: [true, false, false, true]) == 0.875)
        #expect(auroc(scores: [1, 1, 1], labels: [true, false, false]) == 0.5)
    }

    @Test func perfectInvertedAndDegenerate() {
        #expect(auroc(scores: [0.9, 0.8, 0.1], labels: [true, true, false]) == 1)
        #expect(auroc(scores: [0.1, 0.2, 0.9], labels: [true, true, false]) == 0)
        #expect(auroc(scores: [0.1, 0.2], labels: [true, true]) == nil)
        #expect(auroc(scores: [], labels: []) == nil)
    }

    /// Only foreground cells count; low quality must rank defective cells first.
    @Test func defectScoreOverForegroundCells() {
        let a: (qg: [Float], foreground: [Bool], defective: [Bool]) =
            ([0.2, 0.9, 0.1, 1.0], [true, true, false, false], [true, false, true, false])   // cells 2, 3: background
        let b: (qg: [Float], foreground: [Bool], defective: [Bool]) =
            ([0.6, 0.95, 0.3], [true, true, true], [false, false, true])
        // Foreground scores 1 - q: defective {0.8, 0.7}, clean {0.1, 0.4, 0.05}: perfectly separated.
        let r = DefectBenchmark.score([a, b], replicates: 0)
        #expect(r == DefectBenchmark.Result(auroc: 1, positives: 2, negatives: 3))
        // Make a clean cell look worse than a defective one: 1 of 6 pairs inverted.
        let c: (qg: [Float], foreground: [Bool], defective: [Bool]) = ([0.25], [true], [false])
        let r2 = DefectBenchmark.score([a, b, c])
        #expect(r2.positives == 2 && r2.negatives == 4 && abs(r2.auroc! - 7.0 / 8.0) < 1e-12)
    }

    /// The interval resamples whole samples: it brackets the estimate, is reproducible, and is a point when every
    /// resampling separates the classes perfectly; a resampling with one class only leaves it out.
    @Test func bootstrapIntervalOverSamples() {
        typealias Cells = (qg: [Float], foreground: [Bool], defective: [Bool])
        let perfect: [Cells] = (0..<6).map { i in ([0.1, 0.9, 0.8], [true, true, true], [true, false, false]) }
        let p = DefectBenchmark.score(perfect)
        #expect(p.auroc == 1 && p.low == 1 && p.high == 1)
        // Mixed quality: sample i has its defect scored (i / 10) and clean cells at 0.5.
        let mixed: [Cells] = (0..<10).map { i in ([Float(i) / 10, 0.5, 0.45], [true, true, true], [true, false, false]) }
        let m = DefectBenchmark.score(mixed)
        let a = m.auroc!, lo = m.low!, hi = m.high!
        #expect(lo <= a && a <= hi && lo < hi, "\(lo) \(a) \(hi)")
        #expect(DefectBenchmark.score(mixed) == m)
        // One sample holds all positives: some resamplings have none, so no interval.
        let one: [Cells] = [([0.1, 0.9], [true, true], [true, false])] + (0..<9).map { _ in ([0.6, 0.9], [true, true], [false, false]) }
        let o = DefectBenchmark.score(one)
        #expect(o.auroc != nil && o.low == nil && o.high == nil)
    }

    /// The per-kind results partition the cells of the overall one and each equals the overall
    /// score restricted to that kind's samples.
    @Test func perKindResultsPartitionTheSamples() throws {
        let vit = try Fixture.randomized(ViTConfig.xs, seed: 3)
        let samples = try DefectBenchmark.samples(count: 12, seed: 2, size: 16)
        let (all, byKind) = DefectBenchmark.evaluateByKind(vit, samples: samples, block: 2, normalization: .cosine)
        #expect(Set(byKind.keys) == Set(samples.map(\.kind)) && byKind.keys.allSatisfy { !$0.contains("(") })
        #expect(byKind.values.map(\.positives).reduce(0, +) == all.positives)
        #expect(byKind.values.map(\.negatives).reduce(0, +) == all.negatives)
        #expect(all == DefectBenchmark.evaluate(vit, samples: samples, block: 2, normalization: .cosine))
        let kind = try #require(byKind.keys.sorted().first)
        #expect(byKind[kind] == DefectBenchmark.evaluate(vit, samples: samples.filter { $0.kind == kind }, block: 2, normalization: .cosine))
    }
}
