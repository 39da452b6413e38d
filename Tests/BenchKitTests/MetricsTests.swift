import BenchKit
import Report
import Testing

@Suite struct MetricsTests {
    /// One image with DINO rows and CLIP rows that disagree, so a swap of the two shows.
    @Test func dinoAndClipIComeFromTheirOwnJudge() {
        // image, ref0, ref1: DINO says image == ref0 and orthogonal to ref1; CLIP says the opposite.
        let dino: [[Float]] = [[1, 0], [2, 0], [0, 3]]
        let clip: [[Float]] = [[0, 1], [1, 0], [0, 5]]
        let s = BenchMetrics.imageScores(dino: dino, clip: clip, text: [1, 1])
        #expect(s.dino == [1, 0])
        #expect(s.clipI == [0, 1])
        #expect(abs(s.clipT - 1 / 2.0.squareRoot()) < 1e-12)
    }

    func image(prompt: Int, dino: [Double], clipI: [Double], clipT: Double) -> ImageScores {
        ImageScores(file: "x.png", prompt: prompt, k: 0, seed: 0, dino: dino, clipI: clipI, clipT: clipT, hsv: [0, 0, 0])
    }

    @Test func settingsAverageOverTheirReferencePairs() {
        let ims = [image(prompt: 0, dino: [0.9, 0.1, 0.2], clipI: [0.8, 0.2, 0.5], clipT: 0.3),
                   image(prompt: 1, dino: [0.7, 0.3, 0.5], clipI: [0.6, 0.0, 0.3], clipT: 0.1)]
        let all = BenchMetrics.subjectScores("s", ims, setting: .all)
        #expect(abs(all.dino - 2.7 / 6) < 1e-12 && abs(all.clipI - 2.4 / 6) < 1e-12 && abs(all.clipT - 0.2) < 1e-12)
        #expect(all.images == 2)
        let one = BenchMetrics.subjectScores("s", ims, setting: .one)
        #expect(abs(one.dino - 0.8) < 1e-12 && abs(one.clipI - 0.7) < 1e-12 && abs(one.clipT - 0.2) < 1e-12)
    }

    /// Subject A has one image scoring 1, subject B three images scoring 0: the mean over subjects
    /// is 0.5 (over images it would be 0.25).
    @Test func finalMeanIsOverSubjectsNotImages() {
        let a = BenchMetrics.subjectScores("a", [image(prompt: 0, dino: [1], clipI: [1], clipT: 1)], setting: .all)
        let b = BenchMetrics.subjectScores("b", (0..<3).map { image(prompt: $0, dino: [0], clipI: [0], clipT: 0) }, setting: .all)
        let m = BenchMetrics.mean([a, b])
        #expect(m.dino == 0.5 && m.clipI == 0.5 && m.clipT == 0.5)
        let models = BenchAssembly.models([.base], records: [
            BenchItemRecord(key: "original/a", model: "original", wRG: nil, subject: "a", references: ["r"], prompts: ["p"],
                            images: [image(prompt: 0, dino: [1], clipI: [1], clipT: 1)]),
            BenchItemRecord(key: "original/b", model: "original", wRG: nil, subject: "b", references: ["r"], prompts: ["p"],
                            images: (0..<3).map { image(prompt: $0, dino: [0], clipI: [0], clipT: 0) }),
        ])
        #expect(models.map(\.setting) == ["all-references", "one-reference"])
        #expect(BenchMetrics.mean(models[0].perSubject).dino == 0.5)
        #expect(models[0].perSubject.map(\.images) == [1, 3])
    }

    /// With `condition_on_all` a model has two records per subject: the all-references rows read the
    /// images conditioned on every reference, the one-reference rows (and win rates, colour shift) reference 0's.
    @Test func allReferenceConditionedImagesFeedOnlyTheAllReferencesSetting() {
        let one = BenchItemRecord(key: "original/a", model: "original", wRG: nil, subject: "a", references: ["r0", "r1"], prompts: ["p"],
                                  images: [image(prompt: 0, dino: [0.2, 0.2], clipI: [0.2, 0.2], clipT: 0.2)])
        let all = BenchItemRecord(key: "original+all-refs/a", model: "original", wRG: nil, subject: "a", references: ["r0", "r1"],
                                  prompts: ["p"], images: [image(prompt: 0, dino: [0.8, 0.8], clipI: [0.8, 0.8], clipT: 0.8)],
                                  conditionedOn: 2)
        #expect(all.conditionedOnAll && !one.conditionedOnAll)
        let rows = BenchAssembly.models([.base], records: [one, all])
        #expect(rows.map(\.setting) == ["all-references", "one-reference"])
        #expect(abs(BenchMetrics.mean(rows[0].perSubject).dino - 0.8) < 1e-12)
        #expect(abs(BenchMetrics.mean(rows[1].perSubject).dino - 0.2) < 1e-12)
        // Without all-reference images both settings read reference 0's images (the bench's default).
        let plain = BenchAssembly.models([.base], records: [one])
        #expect(abs(BenchMetrics.mean(plain[0].perSubject).dino - 0.2) < 1e-12)
        let other = BenchModel(name: "m", loss: "dm", vit: nil, trainSeed: 1, adapter: "a")
        var mine = one; mine.model = "m"; mine.key = "m/a"
        var mineAll = all; mineAll.model = "m"; mineAll.key = "m+all-refs/a"
        let shift = BenchAssembly.colourShift([.base, other], baseline: "original", records: [one, all, mine, mineAll])
        #expect(shift.count == 1)
        let wins = BenchAssembly.winRates([.base, other], baseline: "original", records: [one, all, mine, mineAll], tieTolerance: 0)
        #expect(wins.allSatisfy { $0.prompts == 1 && $0.ties == 1 }, "win rates compare reference-0 images only: \(wins)")
    }

    /// Colour shift sums in subject order, not a dictionary's per-process order: with values whose sum
    /// depends on the order (1e16 + 1 - 1e16), the result is the subject-ordered one every run.
    @Test func colourShiftSumsInSubjectOrder() {
        func rec(_ model: String, _ subject: String, _ hue: Double) -> BenchItemRecord {
            var im = image(prompt: 0, dino: [0], clipI: [0], clipT: 0)
            im.hsv = [hue, 1, 1]
            return BenchItemRecord(key: "\(model)/\(subject)", model: model, wRG: nil, subject: subject, references: ["r"],
                                   prompts: ["p"], images: [im])
        }
        let other = BenchModel(name: "m", loss: "dm", vit: nil, trainSeed: 1, adapter: "a")
        let records = [rec("original", "a", 1), rec("original", "b", 1), rec("original", "c", 1),
                       rec("m", "c", -1e16), rec("m", "a", 1e16), rec("m", "b", 1)]
        let shift = BenchAssembly.colourShift([.base, other], baseline: "original", records: records)
        // Subject order a, b, c: (1e16 + 1) - 1e16 = 0 in doubles, so the model's mean hue is 0: -100 %.
        #expect(shift.first?.huePct == -100)
    }

    @Test func winRatesCountWinsTiesAndLossesPerPrompt() {
        let base = ["s/0": 0.50, "s/1": 0.50, "s/2": 0.50, "s/3": 0.50, "t/0": 0.2]
        let model = ["s/0": 0.60, "s/1": 0.5005, "s/2": 0.40, "s/3": 0.4995, "t/0": 0.3, "u/9": 1.0]
        let w = BenchMetrics.winRate(model: "m", modelScores: model, baseline: "b", baselineScores: base, scorer: "dino",
                                     tieTolerance: 0.001)
        #expect(w.wins == 2 && w.ties == 2 && w.losses == 1 && w.prompts == 5)
        let strict = BenchMetrics.winRate(model: "m", modelScores: model, baseline: "b", baselineScores: base, scorer: "dino",
                                          tieTolerance: 0)
        #expect(strict.wins == 3 && strict.ties == 0 && strict.losses == 2)
    }

    @Test func perPromptAveragesTheKImagesOfAPrompt() {
        let ims = [image(prompt: 0, dino: [1, 0], clipI: [0, 0], clipT: 0.2), image(prompt: 0, dino: [0, 0], clipI: [1, 1], clipT: 0.4),
                   image(prompt: 1, dino: [1, 1], clipI: [1, 1], clipT: 1)]
        let d = BenchMetrics.perPrompt(["s": ims], scorer: "dino")
        #expect(d == ["s/0": 0.25, "s/1": 1])
        let c = BenchMetrics.perPrompt(["s": ims], scorer: "clip-i")
        #expect(c == ["s/0": 0.5, "s/1": 1])
        let t = BenchMetrics.perPrompt(["s": ims], scorer: "clip-t")
        #expect(abs(t["s/0"]! - 0.3) < 1e-12)
    }
}
