@testable import BenchKit
import Generation
import Report
import Testing
import World

/// results.json from the item records of a small bench: two world subjects x two prompts, the base model and one
/// trained model, a two-point frontier.
@Suite struct ResultsAssemblyTests {
    static let subjects = BenchPlanner.world(subjects: 2, prompts: 2, imagesPerPrompt: 1, seed: 1, split: .test, firstSubject: 0)
    static let trained = BenchModel(name: "dm-s1", loss: "dm", vit: nil, trainSeed: 1, adapter: "artifacts/dpo-train/adapter-dm-s1.safetensors")
    static let models = [BenchModel.base, trained]
    static let keys = BenchWork.keys(subjects: subjects, models: models, allReferences: [], frontier: [0, 2])

    /// The record of item `model`/`subject`: every prompt's image scoring `score` (DINO and CLIP-I per reference).
    static func record(_ key: String, model: String, wRG: Double? = nil, subject: BenchSubject, score: Double) -> BenchItemRecord {
        let images = subject.prompts.map { p in
            ImageScores(file: "artifacts/bench/samples/\(key)/p\(p.index).png", prompt: p.index, k: 0, seed: p.seeds[0],
                        dino: [score, score / 2], clipI: [score, score], clipT: score / 4, hsv: [0.5, 0.5, score])
        }
        return BenchItemRecord(key: key, model: model, wRG: wRG, subject: subject.id, references: ["r0.png", "r1.png"],
                               prompts: subject.prompts.map(\.text), images: images)
    }

    /// Every scored item, out of order: the trained model beats the base on every prompt, the frontier rises with w.
    static var records: [BenchItemRecord] {
        subjects.reversed().flatMap { s in
            [record("dm-s1/\(s.id)", model: "dm-s1", subject: s, score: 0.8), record("original/\(s.id)", model: "original", subject: s, score: 0.6),
             record("frontier-w2/\(s.id)", model: "original", wRG: 2, subject: s, score: 0.7),
             record("frontier-w0/\(s.id)", model: "original", wRG: 0, subject: s, score: 0.6)]
        }
    }

    @Test func itemKeysAndRecordOrder() throws {
        let ids = Self.subjects.map(\.id)
        let items = ids.map { "refs/\($0)" } + ids.map { "original/\($0)" } + ids.map { "dm-s1/\($0)" }
            + ids.map { "frontier-w0/\($0)" } + ids.map { "frontier-w2/\($0)" }
        #expect(Array(Self.keys.dropLast()) == items)
        let results = Self.keys.last!
        #expect(results.hasPrefix("_results-") && results.count == "_results-".count + 12
                && results.dropFirst(9).allSatisfy { "0123456789abcdef".contains($0) }, "\(results)")
        let ordered = try BenchAssembly.ordered(Self.records, expected: Self.keys, subjects: Self.subjects, folder: "run/artifacts/bench")
        #expect(ordered.map(\.key) == ids.flatMap { ["dm-s1/\($0)", "frontier-w0/\($0)", "frontier-w2/\($0)", "original/\($0)"] })
        let partial = Self.records.filter { $0.key != "original/\(ids[1])" && $0.key != "frontier-w2/\(ids[0])" }
        #expect(throws: BenchError.badFile(path: "run/artifacts/bench", reason: "2 item(s) have no scores yet (first: original/\(ids[1]))",
                                           hint: "rerun bench: failed items are retried, then results are assembled")) {
            try BenchAssembly.ordered(partial, expected: Self.keys, subjects: Self.subjects, folder: "run/artifacts/bench")
        }
    }

    /// The results item's key follows the set of scored items, so a finished bench that gains subjects or models gets
    /// a new results item (results.json rebuilt) instead of reporting up to date with the old counts.
    @Test func theResultsKeyChangesWithTheScoredItems() {
        let one = BenchWork.keys(subjects: Array(Self.subjects.prefix(1)), models: Self.models, allReferences: [], frontier: [0, 2])
        #expect(BenchWork.isResults(one.last!) && BenchWork.isResults(Self.keys.last!) && one.last != Self.keys.last)
        #expect(BenchWork.keys(subjects: Self.subjects, models: Self.models, allReferences: [], frontier: [0, 2]).last == Self.keys.last)
        #expect(BenchWork.keys(subjects: Self.subjects, models: [BenchModel.base], allReferences: [], frontier: [0, 2]).last != Self.keys.last)
        #expect(!BenchWork.isResults("refs/_results") && BenchWork.isResults("_results"))
    }

    /// A DreamBench subject whose image cannot be read keeps a `refs/` item that fails naming the file (exit 1, named
    /// in the stage summary), and no model items; other keys have no such error.
    @Test func aSkippedSubjectIsAFailedItemNamingTheFile() {
        let keys = BenchWork.keys(subjects: Self.subjects, models: Self.models, allReferences: [], frontier: [], skipped: ["broken_dog"])
        #expect(keys.contains("refs/broken_dog") && !keys.contains { $0.hasSuffix("/broken_dog") && !$0.hasPrefix("refs/") })
        let folder = DreamBenchFolder(root: "db", subjects: [],
                                      skipped: [SkippedSubject(subject: "broken_dog", path: "db/dataset/broken_dog/00.jpg", reason: "not a valid JPEG")])
        #expect(BenchWork.skippedSubjectError("refs/broken_dog", folder: folder)
                == .badDataset(path: "db/dataset/broken_dog/00.jpg", reason: "subject broken_dog skipped: not a valid JPEG",
                               hint: "fix or remove the file, then rerun bench: the subject's items are added and the results rebuilt"))
        #expect(BenchWork.skippedSubjectError("refs/\(Self.subjects[0].id)", folder: folder) == nil)
        #expect(BenchWork.skippedSubjectError("refs/broken_dog", folder: nil) == nil)
    }

    @Test func resultsHoldEveryModelWinRatesColourShiftAndTheFrontier() throws {
        let settings = BenchSettings(subjects: 2, split: .test, subjectOffset: 0, prompts: 2, imagesPerPrompt: 1, references: 2,
                                     sampling: SamplingOptions(steps: 2, guidanceScale: 5, ipScale: 1, eta: 0), adaptiveNorm: false,
                                     frontier: [0, 2], frontierModel: "base", models: [], dreambenchDir: "", perfJSON: "",
                                     conditionOnAll: false, realRenders: false, tieTolerance: 0.001, gridSubjects: 1, gridPrompts: 1,
                                     batch: 8, report: false)
        let info = settings.protocolInfo(subjects: Self.subjects, resolution: 16, judges: [])
        #expect(info == ProtocolInfo(dataset: "world", subjects: 2, promptsPerSubject: 2, imagesPerPrompt: 1, resolution: 16,
                                     sampler: "DDIM 2 steps, eta 0.0, CFG 5.0, ip scale 1.0; conditioned on reference 0 in both settings",
                                     judges: []))
        // JeDi rows sampled apart (`jedi_scheduler`, `jedi_steps`): their options change scheduler and steps only, and the
        // protocol says so; unset, they are the bench's.
        var split = settings
        split.sampling.scheduler = .dpmpp2m
        #expect(split.jediSampling == split.sampling)
        split.jediScheduler = .ddim; split.jediSteps = 25
        var want = split.sampling
        want.scheduler = .ddim; want.steps = 25
        #expect(split.jediSampling == want)
        #expect(split.protocolInfo(subjects: Self.subjects, resolution: 16, judges: []).sampler
                == "DPM-Solver++ (2M) 2 steps, CFG 5.0, ip scale 1.0; JeDi rows: DDIM 25 steps, eta 0.0; conditioned on reference 0 in both settings")
        let records = try BenchAssembly.ordered(Self.records, expected: Self.keys, subjects: Self.subjects, folder: "f")
        let r = BenchAssembly.results(run: "smoke", config: ["steps": "2", "seed": "1"], models: Self.models, records: records,
                                      tieTolerance: 0.001, protocolInfo: info)
        #expect(r.run == "smoke" && r.config == ["steps": "2", "seed": "1"] && r.protocolInfo == info)
        // One row per (setting, model), settings first; the one-reference setting reads reference 0 only.
        let rows = ReferenceSetting.allCases.flatMap { s in ["\(s.rawValue) original", "\(s.rawValue) dm-s1"] }
        #expect(r.models.map { "\($0.setting) \($0.name)" } == rows)
        let dm = try #require(r.models.first { $0.name == "dm-s1" && $0.setting == ReferenceSetting.one.rawValue })
        #expect(dm.perSubject.map(\.subject) == Self.subjects.map(\.id) && dm.perSubject.allSatisfy { $0.dino == 0.8 && $0.images == 2 })
        #expect(dm.loss == "dm" && dm.trainSeed == 1)
        // dm-s1 wins every (subject, prompt) under every scorer.
        #expect(r.winRates.map(\.scorer) == BenchMetrics.scorers)
        #expect(r.winRates.allSatisfy { $0.model == "dm-s1" && $0.baseline == "original" && $0.wins == 4 && $0.ties == 0 && $0.losses == 0 })
        #expect(r.colourShift.count == 1 && r.colourShift[0].model == "dm-s1" && r.colourShift[0].images == 4)
        #expect(r.colourShift[0].valuePct > 0 && r.colourShift[0].huePct == 0)
        #expect(r.frontier.map(\.wRG) == [0, 2] && r.frontier.allSatisfy { $0.model == "original" && $0.perSubject.count == 2 })
        #expect(r.frontier[1].perSubject[0].clipT == 0.7 / 4)
        #expect(r.patchMatching.isEmpty && r.figures.isEmpty && r.stageTimes.isEmpty)
    }
}
