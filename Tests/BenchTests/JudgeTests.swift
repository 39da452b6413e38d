import Bench
import Checkpoint
import Foundation
import Generation
import Imaging
import Manifest
import Models
import NN
import Random
import Testing
import World

/// Judge files written from randomly initialised models into a temporary directory, loaded back.
@Suite struct JudgeTests {
    static let vision = ViTConfig(imageSize: 16, patchSize: 4, width: 16, depth: 2, heads: 2, mlpDim: 32)
    static let clipConfig = CLIPConfig(vision: vision, text: TextEncoderConfig(vocabSize: 128, maxLength: 12, width: 16, depth: 1,
                                                                                heads: 2, mlpDim: 32), embedDim: 8)

    func writeJudges(_ dir: URL) throws -> (dino: (URL, URL, String), clip: (URL, URL, String)) {
        func write(_ name: String, _ f: SafeTensorsFile, _ edit: (inout PretrainRecord) -> Void) throws -> (URL, URL, String) {
            let data = SafeTensors.encode(f)
            let w = dir.appendingPathComponent("\(name).safetensors"), r = dir.appendingPathComponent("\(name).json")
            try data.write(to: w)
            var rec = PretrainRecord(stage: "pretrain-\(name)", codeVersion: "t", seed: 1, steps: 0, resolution: 16,
                                     weightsFile: "\(name).safetensors", weightsSHA256: SHA256.hex(data), metrics: ["retrieval_top1": 0.5])
            edit(&rec)
            try rec.encoded().write(to: r)
            return (w, r, name)
        }
        let vit = try ViT(config: Self.vision, key: RNGKey(seed: 31))
        let clip = try CLIPModel(config: Self.clipConfig, key: RNGKey(seed: 32))
        return (try write("dino-judge", vit.stateDict()) { $0.vit = Self.vision },
                try write("clip-judge", clip.stateDict()) { $0.clip = Self.clipConfig; $0.tokenizerWords = WorldText.tokenizer().words })
    }

    func renders(_ n: Int) throws -> [Image] {
        try (0..<n).map { i in
            try Renderer.render(RenderRequest(subject: Subject(category: ObjectCategory.allCases[i], instance: 9),
                                              scene: .clean, size: 32)).image
        }
    }

    @Test func loadsJudgesAndScoresAnImageAgainstItself() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bench-judges-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let files = try writeJudges(dir)
        let j = try BenchJudges.load(dino: files.dino, clip: files.clip)
        #expect(j.info.map(\.role) == ["dino", "clip"] && j.info[0].metrics["retrieval_top1"] == 0.5)
        let ims = try renders(3)
        // Image 0 is reference 0: its DINO and CLIP-I cosine to reference 0 is 1.
        let s = try j.score(images: [ims[0], ims[1]], prompts: ["a mug", "a backpack"], references: [ims[0], ims[2]])
        #expect(s.count == 2 && s[0].dino.count == 2)
        #expect(abs(s[0].dino[0] - 1) < 1e-5 && abs(s[0].clipI[0] - 1) < 1e-5)
        #expect(abs(s[1].dino[0] - 1) > 1e-6)
        // CLIP-T matches the text and image embeddings computed directly.
        let t = j.textEmbeddings(["a backpack"])[0], e = try j.clipImageEmbeddings([ims[1]])[0]
        #expect(abs(s[1].clipT - BenchMetrics.cosine(e, t)) < 1e-6)
    }

    @Test func editedWeightsAreATypedErrorNamingTheFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bench-judges-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let files = try writeJudges(dir)
        var bytes = try Data(contentsOf: files.dino.0)
        bytes[bytes.count - 1] ^= 0xFF
        try bytes.write(to: files.dino.0)
        let e = #expect(throws: BenchError.self) { _ = try BenchJudges.load(dino: files.dino, clip: files.clip) }
        #expect(e.map { "\($0)" }?.contains(files.dino.0.path) == true)
    }
}
