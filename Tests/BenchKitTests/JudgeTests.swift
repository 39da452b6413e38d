import BenchKit
import Checkpoint
import Foundation
import Imaging
import Manifest
import Models
import NN
import Pretrained
import Random
import Testing
import Training
import World

/// A judge file written from a randomly initialised model into a temporary directory, loaded back.
@Suite struct JudgeTests {
    static let config = JudgeConfig(tower: ResNetConfig(imageSize: 16, widths: [8, 16], blocks: [1, 1], groups: 4),
                                    heads: WorldAttribute.allCases.map { JudgeHeadSpec(name: $0.rawValue, classes: $0.classNames.count) },
                                    embedDim: 8, clipDim: 8,
                                    text: TextEncoderConfig(vocabSize: WorldText.tokenizer().vocabularySize, maxLength: 12, width: 16, depth: 1,
                                                            heads: 2, mlpDim: 32))

    func writeJudge(_ dir: URL) throws -> (URL, URL) {
        let judge = try WorldJudge(config: Self.config, key: RNGKey(seed: 31))
        let data = SafeTensors.encode(judge.stateDict())
        let w = dir.appendingPathComponent("judge.safetensors"), r = dir.appendingPathComponent("judge.json")
        try data.write(to: w)
        var rec = PretrainRecord(stage: "pretrain-judge", codeVersion: "t", seed: 1, steps: 0, resolution: 16,
                                 weightsFile: "judge.safetensors", weightsSHA256: SHA256.hex(data),
                                 metrics: ["dino_top1": 0.5, "accuracy_decal_star": 0.4])
        rec.judge = Self.config
        rec.tokenizerWords = WorldText.tokenizer().words
        try rec.encoded().write(to: r)
        return (w, r)
    }

    func renders(_ n: Int) throws -> [Image] {
        try (0..<n).map { i in
            try Renderer.render(RenderRequest(subject: Subject(category: ObjectCategory.allCases[i], instance: 9),
                                              scene: .clean, size: 32)).image
        }
    }

    func temporary() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bench-judges-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func loadsTheJudgeAndScoresAnImageAgainstItself() throws {
        let dir = try temporary()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (w, r) = try writeJudge(dir)
        let j = try BenchJudges.load(weights: w, record: r, name: "judge.safetensors")
        #expect(j.info.count == 1 && j.info[0].metrics == ["dino_top1": 0.5], "the report shows the gates, not the diagnostics")
        let ims = try renders(3)
        let expect = AttributeExpectation(subject: nil, background: nil)
        // Image 0 is reference 0: its DINO and CLIP-I cosine to reference 0 is 1.
        let s = try j.score(images: [ims[0], ims[1]], prompts: ["a mug", "a backpack"], expected: [expect, expect], references: [ims[0], ims[2]])
        #expect(s.count == 2 && s[0].dino.count == 2)
        #expect(abs(s[0].dino[0] - 1) < 1e-5 && abs(s[0].clipI[0] - 1) < 1e-5)
        #expect(abs(s[1].dino[0] - 1) > 1e-6)
        #expect(s[0].identity == nil && s[0].scene == nil && s[0].attributes.count == 8)
        // CLIP-T matches the text and image embeddings computed directly.
        let t = j.textEmbeddings(["a backpack"])[0], e = try j.read([ims[1]])[0].clip
        #expect(abs(s[1].clipT - BenchMetrics.cosine(e, t)) < 1e-6)
        // An image judged against the judge's own reading scores identity, detail and scene 1.
        let reading = try j.read([ims[1]])[0].attributes
        let own = AttributeExpectation(subject: reading, background: reading["background"])
        let again = try j.score(images: [ims[1]], prompts: ["a backpack"], expected: [own], references: [ims[0]])
        #expect(again[0].identity == 1 && again[0].detail == 1 && again[0].scene == 1)
    }

    @Test func theReportShowsExactlyTheJudgesGates() {
        #expect(BenchJudges.gateMetrics == Set(WorldJudgeGates.targets.map(\.0)))
    }

    @Test func editedWeightsAndAMissingConfigAreTypedErrorsNamingTheFile() throws {
        let dir = try temporary()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (w, r) = try writeJudge(dir)
        var bytes = try Data(contentsOf: w)
        bytes[bytes.count - 1] ^= 0xFF
        try bytes.write(to: w)
        let e = #expect(throws: BenchError.self) { _ = try BenchJudges.load(weights: w, record: r, name: "judge") }
        #expect(e.map { "\($0)" }?.contains(w.path) == true)
        var rec = try PretrainRecord.read(r)
        rec.judge = nil
        try rec.encoded().write(to: r)
        let e2 = #expect(throws: BenchError.self) { _ = try BenchJudges.load(weights: w, record: r, name: "judge") }
        #expect(e2.map { "\($0)" }?.contains("judge") == true && e2.map { "\($0)" }?.contains(r.path) == true)
    }
}

@Suite struct AttributeMetricTests {
    let truth = ["category": 2, "main_color": 5, "body_pattern": 1, "decal": 3, "decal_color": 7, "secondary_color": 0]

    @Test func identityNeedsAllThreeGlobalAttributesAndDetailBothDecalOnes() {
        let e = AttributeExpectation(subject: truth, background: 4)
        var p = truth
        p["background"] = 4
        var s = BenchMetrics.attributeScores(predicted: p, expected: e)
        #expect(s.identity == 1 && s.detail == 1 && s.scene == 1)
        p["secondary_color"] = 9                                  // not part of either metric
        #expect(BenchMetrics.attributeScores(predicted: p, expected: e).identity == 1)
        p["body_pattern"] = 0
        p["decal_color"] = 1
        p["background"] = 3
        s = BenchMetrics.attributeScores(predicted: p, expected: e)
        #expect(s.identity == 0 && s.detail == 0 && s.scene == 0)
        p = truth
        p["decal"] = 0
        s = BenchMetrics.attributeScores(predicted: p, expected: AttributeExpectation(subject: truth, background: nil))
        #expect(s.identity == 1 && s.detail == 0 && s.scene == nil)
        s = BenchMetrics.attributeScores(predicted: p, expected: AttributeExpectation(subject: nil, background: nil))
        #expect(s.identity == nil && s.detail == nil)
        // Main and secondary read swapped: identity kept only where the world cannot tell them apart.
        p = truth
        (p["main_color"], p["secondary_color"]) = (truth["secondary_color"], truth["main_color"])
        #expect(BenchMetrics.attributeScores(predicted: p, expected: AttributeExpectation(subject: truth, background: nil)).identity == 0)
        #expect(BenchMetrics.attributeScores(predicted: p, expected: AttributeExpectation(subject: truth, background: nil,
                                                                                          mainColorAmbiguous: true)).identity == 1)
    }

    @Test func subjectMeansCountOnlyJudgedImages() {
        func im(_ i: Double?, _ d: Double?) -> ImageScores {
            ImageScores(file: "f", prompt: 0, k: 0, seed: 0, dino: [0.5], clipI: [0.5], clipT: 0.2, hsv: [0, 0, 0], identity: i, detail: d, scene: 1)
        }
        let s = BenchMetrics.subjectScores("mug-0009", [im(1, 0), im(0, 0), im(nil, nil), im(1, 1)], setting: .all)
        #expect(abs(s.identity! - 2.0 / 3) < 1e-12 && abs(s.detail! - 1.0 / 3) < 1e-12 && s.scene == 1)
        #expect(BenchMetrics.subjectScores("x", [im(nil, nil)], setting: .all).identity == nil)
    }
}

@Suite struct RealRendersTests {
    @Test func rendersEveryPromptsSeedsWithTheRequestedChange() throws {
        let plan = BenchPlanner.world(subjects: 1, prompts: 6, imagesPerPrompt: 2, seed: 3)
        let s = plan[0], w = try #require(s.worldSubject)
        let samples = try RealRenders.images(w, prompts: s.prompts, size: 32)
        #expect(samples.count == 12 && samples.map(\.seed) == s.prompts.flatMap(\.seeds))
        // Prompt 0 is an attribute prompt (a colour): its render uses that colour as the main one.
        let p0 = s.prompts[0]
        #expect(p0.kind == "attribute" && p0.colour != nil && p0.worldBackground != nil)
        #expect(p0.edited(w.appearance).main.rawValue == p0.colour && p0.edited(w.appearance).decal == w.appearance.decal)
        var req = RenderRequest(subject: w, scene: Scene(background: p0.worldBackground!, seed: p0.seeds[0]), pose: Pose.random(seed: p0.seeds[0]),
                                size: 32)
        req.appearance = p0.edited(w.appearance)
        #expect(samples[0].image == (try Renderer.render(req)).image)
        // Scene prompts keep the subject as it is.
        let p1 = s.prompts[1]
        #expect(p1.kind == "scene" && p1.edited(w.appearance) == w.appearance && p1.text.contains(p1.worldBackground!.phrase))
    }

    @Test func aFolderPromptWithoutAWorldBackgroundIsAConfigError() {
        let p = BenchPrompt(index: 0, text: "a mug on the moon", kind: "scene", seeds: [1])
        #expect(throws: BenchError.self) { _ = try RealRenders.images(Subject(category: .mug, instance: 9), prompts: [p], size: 32) }
    }
}
