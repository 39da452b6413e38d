import Foundation
import Report
import Testing

@Test func bootstrapOfConstantValuesHasZeroWidth() {
    let e = BenchStatistics.bootstrap(Array(repeating: 0.3, count: 7), images: 14, seed: 1)
    #expect(e.mean == 0.3)
    #expect(e.low == 0.3 && e.high == 0.3)
    #expect(e.subjects == 7 && e.images == 14)
}

@Test func bootstrapIntervalContainsTheMeanAndIsDeterministicBySeed() {
    let v = [0.41, 0.55, 0.38, 0.62, 0.47, 0.51, 0.44, 0.58, 0.35, 0.66]
    let a = BenchStatistics.bootstrap(v, seed: 7), b = BenchStatistics.bootstrap(v, seed: 7), c = BenchStatistics.bootstrap(v, seed: 8)
    let mean = v.reduce(0, +) / Double(v.count)
    #expect(abs(a.mean! - mean) < 1e-12)
    #expect(a.low! < mean && mean < a.high!)
    #expect(a == b)
    #expect(a.low != c.low || a.high != c.high)
    // The interval of a mean of 10 values with sd ~0.1 is about +-0.06 wide: not degenerate, not absurd.
    #expect(a.high! - a.low! > 0.05 && a.high! - a.low! < 0.2)
}

@Test func bootstrapPercentilesMatchAHandComputedCase() {
    // Two subjects: each resample mean is 0, 0.5 or 1 with probabilities 1/4, 1/2, 1/4, so the 2.5%
    // quantile is 0 and the 97.5% quantile 1 for any reasonable number of resamples.
    let e = BenchStatistics.bootstrap([0, 1], resamples: 4000, seed: 3)
    #expect(e.mean == 0.5 && e.low == 0 && e.high == 1)
    // Three subjects [0, 0, 1]: resample means 0, 1/3, 2/3, 1 with probabilities 8, 12, 6, 1 (/27). The
    // cumulative probability reaches 26/27 = 0.963 at 2/3, below 0.975, so the upper 95% bound is 1
    // (a 90% interval would end at 2/3).
    let skew = BenchStatistics.bootstrap([0, 0, 1], resamples: 4000, seed: 5)
    #expect(skew.low == 0 && skew.high == 1)
    #expect(BenchStatistics.bootstrap([0, 0, 1], resamples: 4000, seed: 5, level: 0.9).high! < 0.7)
    #expect(BenchStatistics.quantile(sorted: [0, 1, 2, 3], 0.5) == 1.5)
}

@Test func emptyValuesGiveNoEstimate() {
    let e = BenchStatistics.bootstrap([], seed: 1)
    #expect(e.mean == nil && e.low == nil && e.subjects == 0)
}

@Test func avgIsTheMeanOfTheThreeMetrics() {
    #expect(abs(BenchStatistics.avg(dino: 0.6, clipI: 0.9, clipT: 0.3) - 0.6) < 1e-12)
    let m = ModelResult(name: "original", loss: nil, vit: nil, trainSeed: nil, setting: "all-references",
                        perSubject: [SubjectScores(subject: "a", dino: 0.5, clipI: 0.8, clipT: 0.2, images: 3),
                                     SubjectScores(subject: "b", dino: 0.7, clipI: 0.6, clipT: 0.3, images: 3)])
    let s = ModelSummaries.summarise([m], seed: 1)[0]
    #expect(abs(s.avg.mean! - (0.5 + 0.8 + 0.2 + 0.7 + 0.6 + 0.3) / 6) < 1e-12)
    #expect(abs(s.dino.mean! - 0.6) < 1e-12 && abs(s.clipI.mean! - 0.7) < 1e-12 && abs(s.clipT.mean! - 0.25) < 1e-12)
}

@Test func finalScoreIsTheUnweightedMeanOverSubjects() {
    // Subject a has 1 image, b has 99: an image-weighted mean would be ~0.898, the subject mean is 0.5.
    let m = ModelResult(name: "original", loss: nil, vit: nil, trainSeed: nil, setting: "all-references",
                        perSubject: [SubjectScores(subject: "a", dino: 0.1, clipI: 0.1, clipT: 0.1, images: 1),
                                     SubjectScores(subject: "b", dino: 0.9, clipI: 0.9, clipT: 0.9, images: 99)])
    let s = ModelSummaries.summarise([m], seed: 1)[0]
    #expect(abs(s.dino.mean! - 0.5) < 1e-12)
    #expect(s.dino.images == 100 && s.dino.subjects == 2)
}

@Test func severalSeedsGiveARowEachAndASeedMeanRow() throws {
    func run(_ seed: Int, _ d: Double) -> ModelResult {
        ModelResult(name: "patchdpo (finetuned ViT) seed \(seed)", loss: "patchdpo", vit: "finetuned", trainSeed: seed,
                    setting: "all-references",
                    perSubject: [SubjectScores(subject: "a", dino: d, clipI: 0.5, clipT: 0.3, images: 2),
                                 SubjectScores(subject: "b", dino: d + 0.2, clipI: 0.5, clipT: 0.3, images: 2)])
    }
    let base = ModelResult(name: "original", loss: nil, vit: nil, trainSeed: nil, setting: "all-references",
                           perSubject: [SubjectScores(subject: "a", dino: 0.4, clipI: 0.5, clipT: 0.3, images: 2)])
    let rows = ModelSummaries.summarise([run(2, 0.5), run(1, 0.3), base], seed: 1)
    #expect(rows.map(\.name) == ["original", "patchdpo (finetuned ViT) seed 1", "patchdpo (finetuned ViT) seed 2",
                                 "patchdpo (finetuned ViT) (mean of 2 seeds)"])
    try #require(rows.count == 4)
    let mean = rows[3]
    #expect(mean.isSeedMean && mean.seedCount == 2 && mean.trainSeed == nil)
    #expect(abs(try #require(mean.dino.mean) - 0.5) < 1e-12)      // subjects a: 0.4, b: 0.6
    #expect(mean.dino.subjects == 2 && mean.dino.images == 8)
    #expect(ModelSummaries.representatives(rows).map(\.name) == ["original", "patchdpo (finetuned ViT) (mean of 2 seeds)"])
}

@Test func relativeChangeIsPairedOverSubjects() {
    let e = BenchStatistics.relativeChange(model: [0.55, 0.66], base: [0.5, 0.6], seed: 4)
    #expect(abs(e.mean! - 10) < 1e-9)
    #expect(abs(e.low! - 10) < 1e-9 && abs(e.high! - 10) < 1e-9)   // every subject +10%: no spread
}

@Test func dpoTrainRunNamesGroupBySeed() {
    #expect(ModelSummaries.baseName("patchdpo-finetuned-s2") == "patchdpo-finetuned")
    #expect(ModelSummaries.baseName("dm-s1") == "dm")
    #expect(ModelSummaries.baseName("sft") == "sft")
    let rows = [1, 2].map { s in
        ModelResult(name: "dm-s\(s)", loss: "dm", vit: nil, trainSeed: s, setting: "all-references",
                    perSubject: [SubjectScores(subject: "a", dino: Double(s), clipI: 0, clipT: 0, images: 1)])
    }
    let names = ModelSummaries.summarise(rows, seed: 1).map(\.name)
    #expect(names == ["dm-s1", "dm-s2", "dm (mean of 2 seeds)"])
}
