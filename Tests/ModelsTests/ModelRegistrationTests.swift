import Foundation
import Testing
import Random
import Autograd
import NN
@testable import Models

/// Every model of this target, built at a tiny config, registers every parameter and module it stores
/// (`unregisteredProperties()` is empty): none silently escapes training and saving.
@Suite struct ModelRegistrationTests {
    /// One tiny instance of each model, with each optional part switched on somewhere (ViT head and conv
    /// stem, U-Net class embedding, ResNet shortcuts).
    static func tinyModels() throws -> [(String, any Module)] {
        let vit = ViTConfig(imageSize: 8, patchSize: 4, width: 16, depth: 2, heads: 2, mlpDim: 32)
        var vitWithHead = vit
        vitWithHead.classes = 3
        vitWithHead.stemChannels = [4, 8]
        let text = TextEncoderConfig(vocabSize: 16, maxLength: 6, width: 16, depth: 1, heads: 2, mlpDim: 32)
        let unet = UNetConfig(blockOutChannels: [8, 16], layersPerBlock: 1, crossAttentionDim: 16, heads: 2)
        var unetWithClass = unet
        unetWithClass.classEmbedInputDim = 16
        let judge = JudgeConfig(tower: .xs, heads: [JudgeHeadSpec(name: "category", classes: 3), JudgeHeadSpec(name: "decal", classes: 2)],
                                embedDim: 6, clipDim: 5, text: text)
        let key = RNGKey(seed: 7)
        return [
            ("ViT", try ViT(config: vit, key: key)),
            ("ViT with head and conv stem", try ViT(config: vitWithHead, key: key)),
            ("TextEncoder", try TextEncoder(config: text, key: key)),
            ("CLIPModel", try CLIPModel(config: CLIPConfig(vision: vit, text: text, embedDim: 8), key: key)),
            ("UNet2DConditionModel", try UNet2DConditionModel(config: unet, key: key)),
            ("UNet2DConditionModel with class embedding", try UNet2DConditionModel(config: unetWithClass, key: key)),
            ("Resampler", try Resampler(config: .xs, key: key)),
            ("ResNet", try ResNet(config: .xs, key: key)),
            ("ConvReferenceEncoder", try ConvReferenceEncoder(config: .xs, key: key)),
            ("ViTReferenceEncoder", ViTReferenceEncoder(vit: try ViT(config: vit, key: key), layer: 1)),
            ("WorldJudge", try WorldJudge(config: judge, key: key)),
            ("AutoencoderKL", try AutoencoderKL(config: .xs, key: key)),
            ("Segmenter", try Segmenter(config: .xs, key: key)),
        ]
    }

    @Test func everyModelRegistersEveryStoredParameterAndModule() throws {
        for (name, model) in try Self.tinyModels() {
            #expect(model.unregisteredProperties() == [], "\(name) stores parameters or modules outside its lists")
            #expect(model.parameterCount > 0, "\(name)")
        }
    }

    /// The models above reach every module class declared in Sources/Models (as a root, a registered child or
    /// a forwarded one): a new model type fails here until it is added to `tinyModels()`.
    @Test func theCheckedModelsCoverEveryModuleTypeOfTheTarget() throws {
        var seen = Set<String>()
        func walk(_ m: any Module) {
            seen.insert(String(describing: type(of: m)))
            for (_, c) in m.children { walk(c) }
            if let r = m as? ViTReferenceEncoder { walk(r.vit) }          // forwards the ViT's lists
            if let a = m as? IPCrossAttention { walk(a.base) }           // forwards its attention's
        }
        for (_, model) in try Self.tinyModels() { walk(model) }

        let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources/Models")
        let files = try FileManager.default.contentsOfDirectory(at: sources, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "swift" }
        let declaration = /class\s+(\w+)\s*:\s*(Module|ReferenceEncoder)\b/
        var declared = Set<String>()
        for file in files {
            for match in try String(contentsOf: file, encoding: .utf8).matches(of: declaration) { declared.insert(String(match.1)) }
        }
        #expect(declared.count > 30, "found \(declared.sorted()) in \(sources.path)")
        #expect(declared.subtracting(seen).sorted() == [], "module types no tiny model builds")
    }

    /// describe() of a real model: one line per parameter in `namedParameters()` order, the total in the title.
    @Test func describeOfAModelMatchesItsNamedParameters() throws {
        let vit = try ViT(config: ViTConfig(imageSize: 8, patchSize: 4, width: 8, depth: 1, heads: 2, mlpDim: 16, classes: 3),
                          key: RNGKey(seed: 1))
        let lines = vit.describe().split(separator: "\n").map(String.init)
        #expect(lines.first == "ViT: \(vit.parameterCount) parameters")
        let parameterLines = lines.dropFirst().filter { $0.contains("[") }
        let named = vit.namedParameters()
        #expect(parameterLines.count == named.count)
        for (line, (key, p)) in zip(parameterLines, named) {
            let shape = p.shape.map(String.init).joined(separator: ", ")
            #expect(line.trimmingCharacters(in: .whitespaces) == "\(key) [\(shape)] \(p.value.count)")
        }
        #expect(lines.contains("        blocks.0.attn.qkv: Linear"))
    }
}
