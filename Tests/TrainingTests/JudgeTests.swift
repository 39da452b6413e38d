import Autograd
import Foundation
import Generation
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

    @Test func infoNCEThroughAProjectionHeadHasFiniteDifferenceGradients() {
        var rng = TestRNG(seed: 9)
        let head = ProjectionHead(width: 6, output: 4, key: RNGKey(seed: 2))
        let checks = moduleGradCheck(head, inputs: [rng.tensor([3, 6]), rng.tensor([3, 6])]) { x in
            InstanceDiscrimination.infoNCE(head(x[0]), head(x[1]), temperature: 0.2)
        }
        #expect(checks == head.namedParameters().count + 2)
    }

    @Test func theTaskTrainsTheViTAndTheHeadAndStartsNearLogN() throws {
        let vit = try ViT(config: .xs, key: RNGKey(seed: 4))
        let head = ProjectionHead(width: ViTConfig.xs.width, output: 8, key: RNGKey(seed: 5))
        let data = WorldDataConfig(resolution: 16, split: .validation, subjectsPerCategory: 4)
        let task = InstanceDiscriminationTask(vit: vit, projection: head, data: data, seed: 3, subjects: 6, perCategory: 2, temperature: 1)
        let keys = task.trainable.map(\.0)
        #expect(keys.contains("cls_token") && keys.contains("projection.fc2.weight"))
        #expect(!vit.stateDict().tensors.keys.contains { $0.hasPrefix("projection") }, "the head is not part of the judge's file")
        let l = try task.loss(step: 0).value.scalars[0]
        #expect(abs(Double(l) - log(6)) < 0.3, "random init at tau = 1: loss \(l) should be near ln 6")
        let before = vit.clsToken.value
        let t = Trainer(task: task, settings: TrainSettings(steps: 1, batchSize: 6, learningRate: 1e-2, seed: 3))
        try t.trainStep()
        #expect(vit.clsToken.value != before && t.lastLoss.isFinite)
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

    @Test func theGateOnATinyViTReportsChanceLevelsAndCounts() throws {
        let vit = try ViT(config: .xs, key: RNGKey(seed: 8))
        let g = try Gates.instanceRetrieval(embed: Gates.classTokenEmbedding(vit), resolution: 16, seed: 3,
                                            subjectsPerCategory: 2, queriesPerSubject: 1)
        #expect(g.gallery == 26 && g.queries == 26)
        #expect(g.chance == 1.0 / 26 && g.sameCategoryChance == 0.5)
        #expect((0...1).contains(g.top1) && g.sameCategoryTop1 >= g.top1)
        #expect(g.metrics["instance_top1_same_category"] == g.sameCategoryTop1)
        // A constant embedding ties everywhere, and ties go to the lowest gallery index.
        let constant = try Gates.instanceRetrieval(embed: { x in Tensor(shape: [x.shape[0], 2], scalars: Array(repeating: 0.5, count: x.shape[0] * 2)) },
                                                   resolution: 16, seed: 3, subjectsPerCategory: 2, queriesPerSubject: 1)
        #expect(abs(constant.top1 - 1.0 / 26) < 1e-12, "ties go to gallery row 0: only subject 0's query is right")
        #expect(abs(constant.sameCategoryTop1 - 0.5) < 1e-12, "the first of each category's two")
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
