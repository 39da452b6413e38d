import Autograd
import Foundation
import Models
import NN
import Random
import Testing
import TensorCore
import TestSupport
import Text
import World
@testable import Training

@Suite struct InstanceDiscriminationLossTests {
    @Test func infoNCEMatchesAHandComputedCase() {
        // a = [[3, 4], [0, 2]] -> [[0.6, 0.8], [0, 1]]; b = [[1, 0], [0, 5]] -> identity; tau = 0.5:
        // logits = 2 * [[0.6, 0.8], [0, 1]] = [[1.2, 1.6], [0, 2]].
        let a = Variable(Tensor(shape: [2, 2], scalars: [3, 4, 0, 2]))
        let b = Variable(Tensor(shape: [2, 2], scalars: [1, 0, 0, 5]))
        let l = InstanceDiscrimination.infoNCE(a, b, temperature: 0.5).value.scalars[0]
        let rows = (log(exp(1.2) + exp(1.6)) - 1.2 + log(exp(0) + exp(2)) - 2) / 2
        let cols = (log(exp(1.2) + exp(0)) - 1.2 + log(exp(1.6) + exp(2)) - 2) / 2
        #expect(abs(Double(l) - (rows + cols) / 2) < 1e-5, "loss \(l), want \((rows + cols) / 2)")
        // Swapping the views transposes the logits: the symmetric loss is unchanged.
        let swapped = InstanceDiscrimination.infoNCE(b, a, temperature: 0.5).value.scalars[0]
        #expect(abs(swapped - l) < 1e-6)
    }

    @Test func infoNCEHasFiniteDifferenceGradients() {
        var rng = TestRNG(seed: 9)
        let head = Linear(6, 4, key: RNGKey(seed: 2))
        let checks = moduleGradCheck(head, inputs: [rng.tensor([3, 6]), rng.tensor([3, 6])]) { x in
            InstanceDiscrimination.infoNCE(head(x[0]), head(x[1]), temperature: 0.2)
        }
        #expect(checks == head.namedParameters().count + 2)
    }
}

@Suite struct WorldJudgeTaskTests {
    static let data = WorldDataConfig(resolution: 16, split: .validation, subjectsPerCategory: 4, subjectOffset: 3)

    func tinyJudge(seed: UInt64 = 4) throws -> WorldJudge {
        try WorldJudge(config: JudgeConfig(tower: .xs, heads: JudgeLabels.heads, embedDim: 8, clipDim: 8,
                                           text: TextEncoderConfig(vocabSize: WorldText.tokenizer(maxLength: 20).vocabularySize, maxLength: 20,
                                                                   width: 16, depth: 1, heads: 2, mlpDim: 32)),
                       key: RNGKey(seed: seed))
    }

    @Test func labelsAreTheWorldTruthOfEveryRow() {
        let s = Subject(category: .clock, instance: 18), a = s.appearance
        let l = JudgeLabels.labels(heads: JudgeLabels.heads, subjects: [s], backgrounds: [.snow])
        #expect(l["category"] == [Int32(ObjectCategory.clock.index)])
        #expect(l["main_color"] == [Int32(ColorName.allCases.firstIndex(of: a.main)!)])
        #expect(l["decal"] == [Int32(DecalKind.allCases.firstIndex(of: a.decal)!)])
        #expect(l["decal_color"] == [Int32(ColorName.allCases.firstIndex(of: a.decalColor)!)])
        #expect(l["body_pattern"] == [Int32(PatternKind.allCases.firstIndex(of: a.body.kind)!)])
        #expect(l["background"] == [Int32(Background.allCases.firstIndex(of: .snow)!)])
        #expect(Set(JudgeLabels.heads.map(\.name)) == Set(WorldAttribute.allCases.map(\.rawValue)))
    }

    @Test func theOffsetSkipsTheFirstSubjectsOfTheSplit() {
        let pool = Self.data.pool(of: .mug)
        #expect(pool == Array(Split.validation.subjects(of: .mug, count: 7).dropFirst(3)))
        let b = InstanceData.draw(seed: 1, step: 0, count: 26, perCategory: 2, config: Self.data)
        let skipped = Set(ObjectCategory.allCases.flatMap { Split.validation.subjects(of: $0, count: 3) })
        #expect(b.allSatisfy { !skipped.contains($0) })
    }

    @Test func startsNearTheSumOfChanceLossesAndOneStepMovesEveryPart() throws {
        let judge = try tinyJudge()
        let tok = WorldText.tokenizer(maxLength: 20)
        let task = WorldJudgeTask(judge: judge, tokenizer: tok, data: Self.data, seed: 3, subjects: 6, perCategory: 2,
                                  temperature: 1, captionFraction: 0.5)
        let l = try task.loss(step: 0).value.scalars[0]
        let chance = WorldAttribute.allCases.reduce(0.0) { $0 + log(Double($1.classNames.count)) } + log(6) + log(12)
        #expect(abs(Double(l) - chance) < 0.25 * chance, "random init: loss \(l), chance level \(chance)")
        #expect(task.lastParts.keys.contains("ce_decal") && task.lastParts["instance"] != nil && task.lastParts["clip"] != nil)
        let tower = judge.tower.stemConv.weight.value, text = judge.textProjection.weight.value, emb = judge.embedding.weight.value
        let t = Trainer(task: task, settings: TrainSettings(steps: 1, batchSize: 6, learningRate: 1e-2, seed: 3))
        try t.trainStep()
        #expect(t.lastLoss.isFinite)
        #expect(judge.tower.stemConv.weight.value != tower && judge.textProjection.weight.value != text && judge.embedding.weight.value != emb)
    }

    @Test func captionsMixPlainAndComprehensiveByTheFraction() throws {
        let judge = try tinyJudge()
        let tok = WorldText.tokenizer(maxLength: 20)
        let b = try InstanceData.batch(seed: 2, step: 0, subjects: 8, perCategory: 2, config: Self.data, threads: 1)
        func task(_ f: Float) -> WorldJudgeTask {
            WorldJudgeTask(judge: judge, tokenizer: tok, data: Self.data, seed: 2, subjects: 8, perCategory: 2, temperature: 0.1, captionFraction: f)
        }
        let rows = b.subjects + b.subjects
        #expect(task(1).captions(b, step: 0) == zip(rows, b.backgrounds).map { Prompts.comprehensive($0, $1) })
        let plain = task(0).captions(b, step: 0)
        #expect(zip(plain, zip(rows, b.backgrounds)).allSatisfy { p, sb in
            Prompts.templates.contains { Prompts.fill($0, object: sb.0.category.noun, background: sb.1) == p }
        })
        let half = task(0.5).captions(b, step: 0)
        let rich = zip(half, zip(rows, b.backgrounds)).filter { $0 == Prompts.comprehensive($1.0, $1.1) }.count
        #expect(rich > 2 && rich < 14, "about half of 16 rows comprehensive, got \(rich)")
    }
}

@Suite struct InstanceDataTests {
    let cfg = WorldDataConfig(resolution: 16, split: .validation, subjectsPerCategory: 4, cleanFraction: 0.3)

    @Test func twoViewsShareASubjectAndDifferInScene() throws {
        let b = try InstanceData.batch(seed: 5, step: 2, subjects: 8, perCategory: 2, config: cfg, threads: 1)
        #expect(b.images.shape == [16, 3, 16, 16] && b.subjects.count == 8 && b.backgrounds.count == 16)
        #expect(Set(b.subjects).count == 8, "distinct subjects (no false negatives)")
        #expect(b.subjects.allSatisfy { $0.split == .validation && $0.instance < 40 })
        let per = 3 * 16 * 16
        for i in 0..<8 {
            #expect(b.backgrounds[i] != b.backgrounds[8 + i], "subject \(i): both views on \(b.backgrounds[i])")
            let va = Array(b.images.scalars[(i * per)..<((i + 1) * per)]), vb = Array(b.images.scalars[((8 + i) * per)..<((9 + i) * per)])
            #expect(va != vb)
        }
        for g in stride(from: 0, to: 8, by: 2) { #expect(b.subjects[g].category == b.subjects[g + 1].category, "groups of one category") }
        #expect(Set(b.subjects.map(\.category)).count == 4)
    }

    @Test func aBatchIsAPureFunctionOfSeedAndStep() throws {
        let a = try InstanceData.batch(seed: 5, step: 2, subjects: 4, perCategory: 2, config: cfg, threads: 1)
        let b = try InstanceData.batch(seed: 5, step: 2, subjects: 4, perCategory: 2, config: cfg, threads: 2)
        #expect(a.images == b.images && a.subjects == b.subjects && a.backgrounds == b.backgrounds)
        let c = try InstanceData.batch(seed: 5, step: 3, subjects: 4, perCategory: 2, config: cfg, threads: 1)
        #expect(c.images != a.images)
    }

    @Test func moreSubjectsThanCategoriesStayDistinctWhileThePoolAllows() {
        let s = InstanceData.draw(seed: 1, step: 0, count: 40, perCategory: 2, config: cfg)
        #expect(s.count == 40 && Set(s).count == 40)
    }
}

@Suite struct JudgeGateTests {
    @Test func retrievalScoresCountTheOwnerAndTheSameCategoryOnly() {
        // Gallery: 4 unit vectors, categories [0, 0, 1, 1]. Query 0 is nearest gallery 1 (wrong, same
        // category); query 1 nearest 2 (right); query 2 nearest 0 overall (wrong, other category) but
        // within category 1 nearest 3 (right).
        let gallery = Tensor(shape: [4, 2], scalars: [1, 0, 0.8, 0.6, 0, 1, -0.6, 0.8])
        let queries = Tensor(shape: [3, 2], scalars: [0.8, 0.6, 0, 1, 0.1, -0.5])
        let s = Gates.retrievalScores(queries: queries, owners: [0, 2, 3], gallery: gallery, categories: [0, 0, 1, 1])
        #expect(abs(s.top1 - 1.0 / 3) < 1e-12)
        #expect(abs(s.sameCategory - 2.0 / 3) < 1e-12)
    }

    @Test func theGatesOfATinyJudgeAreInRangeAndCheckedAgainstTheirTargets() throws {
        let judge = try WorldJudgeTaskTests().tinyJudge()
        let m = try WorldJudgeGates.measure(judge, tokenizer: WorldText.tokenizer(maxLength: 20), seed: 3, perCategory: 2, views: 2, threads: 1)
        for (k, _) in WorldJudgeGates.targets {
            let v = try #require(m[k], "\(k)")
            #expect(k.hasPrefix("clip_i") ? (-2...2).contains(v) : (0...1).contains(v), "\(k) = \(v)")
        }
        #expect(m["accuracy_secondary_color"] != nil && m["dino_auroc"] == min(m["dino_auroc_reference"]!, m["dino_auroc_scene_pairs"]!))
        #expect(abs(m["clip_i_gap"]! - (m["clip_i_same"]! - m["clip_i_other"]!)) < 1e-12)
        let checks = WorldJudgeGates.checks(["accuracy_category": 0.96, "dino_top1": 0.5, "renders": 5000])
        #expect(checks.count == WorldJudgeGates.targets.count)
        #expect(checks.first { $0.metric == "accuracy_category" }!.met && checks.first { $0.metric == "accuracy_category" }!.line.hasSuffix(" MET"))
        #expect(!checks.first { $0.metric == "dino_top1" }!.met && checks.first { $0.metric == "dino_top1" }!.line.hasSuffix("NOT MET"))
        #expect(checks.first { $0.metric == "clip_t_top1" }!.line.hasSuffix("NOT MEASURED"))
        #expect(m["renders"].map { Int($0) } == 2 * 13 * 2)
    }

    @Test func aShareGateIsMetOnlyWhenItsIntervalClearsTheTarget() {
        // 0.96 of 208 renders: Wilson [0.924, 0.979] reaches below 0.95; of 5000 renders it does not.
        let few = WorldJudgeGates.checks(["accuracy_category": 0.96, "renders": 208]).first { $0.metric == "accuracy_category" }!
        #expect(!few.met && few.line.hasSuffix("MET (point estimate only)"), "\(few.line)")
        #expect(abs(few.interval!.lower - 0.9240) < 5e-4 && abs(few.interval!.upper - 0.9793) < 5e-4, "\(few.interval!)")
        let many = WorldJudgeGates.checks(["accuracy_category": 0.96, "renders": 5000]).first { $0.metric == "accuracy_category" }!
        #expect(many.met && many.line.hasSuffix("  MET"), "\(many.line)")
        // Not a share: no interval, the point estimate decides.
        let auroc = WorldJudgeGates.checks(["dino_auroc": 0.96, "renders": 208]).first { $0.metric == "dino_auroc" }!
        #expect(auroc.interval == nil && auroc.met)
        // Wilson at the edges stays inside [0, 1].
        let w = GateCheck.wilson(1, n: 10)
        #expect(abs(w.upper - 1) < 1e-9 && abs(w.lower - 0.7225) < 5e-4)
    }

    @Test func sceneRendersOfOneSubjectUseDistinctBackgrounds() {
        let subjects = WorldJudgeGates.subjects(perCategory: 2)
        #expect(subjects.count == 26 && subjects.allSatisfy { $0.split == .test })
        let reqs = WorldJudgeGates.sceneRequests(subjects, views: 4, resolution: 16, seed: 1)
        for i in subjects.indices {
            let bgs = reqs[(i * 4)..<(i * 4 + 4)].map(\.scene.background)
            #expect(Set(bgs).count == 4 && !bgs.contains(.clean))
        }
    }
}

@Suite struct CLIPJudgeDataTests {
    @Test func attributeFractionSwitchesToComprehensiveCaptions() throws {
        let clip = try CLIPModel(config: .xs, key: RNGKey(seed: 1))
        let data = WorldDataConfig(resolution: 16, split: .validation, subjectsPerCategory: 4)
        let b = try WorldData.batch(seed: 2, step: 0, size: 16, config: data)
        let all = CLIPContrastiveTask(clip: clip, data: data, seed: 2, batchSize: 16, attributeFraction: 1)
        #expect(all.prompts(b, step: 0) == zip(b.subjects, b.backgrounds).map { Prompts.comprehensive($0, $1) })
        let none = CLIPContrastiveTask(clip: clip, data: data, seed: 2, batchSize: 16)
        #expect(none.prompts(b, step: 0) == b.prompts)
        let half = CLIPContrastiveTask(clip: clip, data: data, seed: 2, batchSize: 16, attributeFraction: 0.5).prompts(b, step: 0)
        let mixed = zip(half, b.prompts).filter { $0 != $1 }.count
        #expect(mixed > 2 && mixed < 14, "about half the rows captioned, got \(mixed) of 16")
    }

    @Test func comprehensiveCaptionsFitTwentyTokensWithoutUnknownWords() {
        let tok = WorldText.tokenizer(maxLength: 20)
        for c in ObjectCategory.allCases {
            for s in Split.test.subjects(of: c, count: 6) {
                for bg in Background.allCases {
                    let caption = Prompts.comprehensive(s, bg)
                    #expect(WordTokenizer.split(caption).count <= 18, "\(caption) is cut at 20 ids")
                    #expect(!tok.encode(caption).contains(WordTokenizer.unknown), "\(caption)")
                }
            }
        }
    }
}
