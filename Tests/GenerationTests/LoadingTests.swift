import Autograd
import Checkpoint
import Diffusion
import Manifest
import Foundation
import Testing
import TensorCore
import Text
import World
@testable import Generation
import Models
import NN
import Pretrained
import Random

@Suite struct LoadingTests {
    @Test func aRecordWithANonFiniteMetricRefusesToEncodeInsteadOfWritingAnEmptyFile() throws {
        var rec = PretrainRecord(stage: "pretrain-judge", codeVersion: "t", seed: 1, steps: 1, resolution: 16, weightsFile: "w", weightsSHA256: "")
        #expect(try !rec.encoded().isEmpty)
        rec.metrics["loss"] = .nan
        #expect(throws: EncodingError.self) { _ = try rec.encoded() }
    }

    @Test func worldTokenizerCoversEveryPrompt() {
        let tok = WorldText.tokenizer()
        #expect(tok.vocabularySize < 128, "the text encoders are built with vocabSize 128")
        for p in Prompts.list(count: 200, seed: 3) { #expect(tok.unknownWords(in: p.prompt).isEmpty, "\(p.prompt)") }
        let s = Subject(category: .robotToy, instance: 7)
        for bg in Background.allCases {
            #expect(tok.unknownWords(in: Prompts.comprehensive(s, bg)).isEmpty)
        }
        #expect(tok.encode(WorldText.nullPrompt).prefix(2) == [WordTokenizer.begin, WordTokenizer.end])
        #expect(tok == WorldText.tokenizer(), "a pure function of the code")
    }

    /// Writes `<name>.safetensors` and its record `<name>.json` (SHA-256 filled in, then `edit`) into `dir`.
    static func writeCheckpoint(_ name: String, _ f: SafeTensorsFile, into dir: URL, _ edit: (inout PretrainRecord) -> Void) throws {
        let data = SafeTensors.encode(f)
        try data.write(to: dir.appendingPathComponent("\(name).safetensors"))
        var rec = PretrainRecord(stage: "pretrain-\(name)", codeVersion: "t", seed: 4, steps: 0, resolution: 16,
                                 weightsFile: "\(name).safetensors", weightsSHA256: SHA256.hex(data))
        edit(&rec)
        try rec.encoded().write(to: dir.appendingPathComponent("\(name).json"))
    }

    @Test func adapterFileRoundTripsAndIsStrict() throws {
        let a = try Tiny.generator(seed: 1), b = try Tiny.generator(seed: 2)
        let file = PretrainedModels.adapterFile(unet: a.unet, resampler: a.resampler!)
        #expect(file.tensors.keys.contains("image_proj.latents"))
        #expect(file.tensors.keys.contains { $0.hasSuffix("attn2.to_k_ip.weight") })
        #expect(!file.tensors.keys.contains { $0.hasSuffix("attn2.to_k.weight") }, "only the adapter set")
        try PretrainedModels.applyAdapter(file, path: "mem", unet: b.unet, resampler: b.resampler!)
        #expect(PretrainedModels.adapterFile(unet: b.unet, resampler: b.resampler!) == file)
        var broken = file
        broken.tensors.removeValue(forKey: "image_proj.latents")
        #expect(throws: CheckpointError.self) { try PretrainedModels.applyAdapter(broken, path: "mem", unet: b.unet, resampler: b.resampler!) }
    }

    /// An adapter trained with its U-Net (`withUNet`): every U-Net weight is in the file and loads over the
    /// base U-Net's; a file with only the image branch is refused where the whole U-Net is expected.
    @Test func anAdapterWithItsUNetCarriesEveryUNetWeight() throws {
        let a = try Tiny.generator(seed: 1), b = try Tiny.generator(seed: 2)
        let file = PretrainedModels.adapterFile(unet: a.unet, resampler: a.resampler!, withUNet: true)
        #expect(file.tensors.count == a.resampler!.namedParameters().count + a.unet.namedParameters().count)
        try PretrainedModels.applyAdapter(file, path: "mem", unet: b.unet, resampler: b.resampler!, withUNet: true)
        for ((k, p), (_, q)) in zip(a.unet.namedParameters(), b.unet.namedParameters()) { #expect(p.value == q.value, "\(k)") }
        let adapterOnly = PretrainedModels.adapterFile(unet: a.unet, resampler: a.resampler!)
        #expect(throws: CheckpointError.self) { try PretrainedModels.applyAdapter(adapterOnly, path: "mem", unet: b.unet, resampler: b.resampler!, withUNet: true) }
        #expect(throws: CheckpointError.self) { try PretrainedModels.applyAdapter(file, path: "mem", unet: b.unet, resampler: b.resampler!) }
    }

    /// A dpo-train adapter trained with `adapter_trainable = "image+attention"`: the image branch and every
    /// self-attention weight, read back by its keys (`AdapterTrainable(keysOf:)`), strictly: without any one of them, or
    /// loaded as an image-branch file, it is refused; the image-branch file reads as `.image`.
    @Test func anAdapterWithItsSelfAttentionCarriesExactlyTheAttentionWeights() throws {
        let a = try Tiny.generator(seed: 1), b = try Tiny.generator(seed: 2)
        let file = PretrainedModels.adapterFile(unet: a.unet, resampler: a.resampler!, trainable: .imageAndAttention)
        let attention = a.unet.namedParameters().filter { $0.0.contains(".attn1.") }
        #expect(!attention.isEmpty)
        #expect(file.tensors.count == a.resampler!.namedParameters().count + a.unet.imageProjectionParameters().count + attention.count)
        #expect(AdapterTrainable(keysOf: file) == .imageAndAttention)
        #expect(AdapterTrainable(keysOf: PretrainedModels.adapterFile(unet: a.unet, resampler: a.resampler!)) == .image)
        try PretrainedModels.applyAdapter(file, path: "mem", unet: b.unet, resampler: b.resampler!, trainable: .imageAndAttention)
        let bByKey = Dictionary(uniqueKeysWithValues: b.unet.namedParameters())
        for (k, p) in attention { #expect(bByKey[k]!.value == p.value, "\(k)") }
        let other = b.unet.namedParameters().first { !$0.0.contains(".attn1.") && !$0.0.hasSuffix("_ip.weight") }!
        #expect(other.1.value != Dictionary(uniqueKeysWithValues: a.unet.namedParameters())[other.0]!.value, "the rest of the U-Net stays b's")
        #expect(throws: CheckpointError.self) { try PretrainedModels.applyAdapter(file, path: "mem", unet: b.unet, resampler: b.resampler!) }
        var missing = file
        missing.tensors.removeValue(forKey: attention[0].0)
        #expect(throws: CheckpointError.self) {
            try PretrainedModels.applyAdapter(missing, path: "mem", unet: b.unet, resampler: b.resampler!, trainable: .imageAndAttention)
        }
    }

    /// An adapter with its own convolutional reference encoder: `image_encoder.*` keys in the same file,
    /// `referenceEncoder` in the record; a directory load rebuilds it and samples exactly as the original.
    @Test func adapterWithItsOwnConvEncoderRoundTripsThroughADirectory() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gen-conv-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let clip = try CLIPModel(config: CLIPConfig(vision: Tiny.vision, text: Tiny.text, embedDim: 8), key: RNGKey(seed: 4))
        let base = try Tiny.generator(seed: 4, adapter: false)
        let rc = ResNetConfig(imageSize: 16, widths: [8, 16], blocks: [1, 1], groups: 4)
        let enc = try ConvReferenceEncoder(config: rc, key: RNGKey(seed: 7))
        enc.positionEmbedding.value = Init.normal(enc.positionEmbedding.shape, std: 0.1, key: RNGKey(seed: 8))
        let res = try Resampler(config: Tiny.resampler, key: RNGKey(seed: 9))
        let g = Generator(textEncoder: clip.textModel, imageEncoder: enc, resampler: res, unet: base.unet, schedule: Tiny.schedule, resolution: 16)
        func write(_ name: String, _ f: SafeTensorsFile, _ edit: (inout PretrainRecord) -> Void) throws {
            try Self.writeCheckpoint(name, f, into: dir, edit)
        }
        try write("clip", clip.stateDict()) { $0.clip = clip.config }
        try write("unet", base.unet.stateDict()) { $0.unet = Tiny.unet; $0.noise = NoiseConfig(trainSteps: 100, betaStart: 1e-3, betaEnd: 0.05) }
        let file = PretrainedModels.adapterFile(unet: base.unet, resampler: res, encoder: enc)
        #expect(file.tensors.keys.contains("image_encoder.position_embedding"))
        #expect(file.tensors.keys.contains("image_encoder.backbone.stem.conv.weight"))
        try write("adapter", file) { $0.resampler = Tiny.resampler; $0.referenceEncoder = rc }
        let loaded = try Generator.load(directory: dir)
        #expect(loaded.imageEncoder is ConvReferenceEncoder)
        let opts = SamplingOptions(steps: 2)
        let refs = Tiny.references(2)
        #expect(try Sampler.sample(g, prompts: ["a mug", "a can"], references: refs, seeds: [1, 2], options: opts)
                == Sampler.sample(loaded, prompts: ["a mug", "a can"], references: refs, seeds: [1, 2], options: opts))
        // Without the record's encoder, the file has keys nobody expects: a strict load refuses it.
        try write("adapter", file) { $0.resampler = Tiny.resampler }
        #expect { _ = try Generator.load(directory: dir) } throws: { "\($0)".contains("adapter.safetensors") }
    }

    @Test func loadsADirectoryAndRefusesAnEditedFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gen-load-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let clip = try CLIPModel(config: CLIPConfig(vision: Tiny.vision, text: Tiny.text, embedDim: 8), key: RNGKey(seed: 4))
        let g = try Tiny.generator(seed: 4)
        func write(_ name: String, _ f: SafeTensorsFile, _ edit: (inout PretrainRecord) -> Void) throws {
            try Self.writeCheckpoint(name, f, into: dir, edit)
        }
        try write("clip", clip.stateDict()) { $0.clip = clip.config }
        try write("unet", g.unet.stateDict()) { $0.unet = Tiny.unet; $0.noise = NoiseConfig(trainSteps: 100, betaStart: 1e-3, betaEnd: 0.05) }
        try write("adapter", PretrainedModels.adapterFile(unet: g.unet, resampler: g.resampler!)) { $0.resampler = Tiny.resampler; $0.imageEncoderLayer = 2 }
        let loaded = try Generator.load(directory: dir)
        #expect((loaded.imageEncoder as? ViTReferenceEncoder)?.layer == 2 && loaded.schedule.trainSteps == 100)
        let opts = SamplingOptions(steps: 2)
        let refs = Tiny.references(1)
        let mine = try Sampler.sample(Generator(textEncoder: clip.textModel, imageEncoder: ViTReferenceEncoder(vit: clip.visionModel, layer: 2),
                                                resampler: g.resampler, unet: g.unet, schedule: loaded.schedule, resolution: 16),
                                      prompts: ["a mug"], references: refs, seeds: [1], options: opts)
        let theirs = try Sampler.sample(loaded, prompts: ["a mug"], references: refs, seeds: [1], options: opts)
        #expect(mine == theirs)
        // A record whose schedule NoiseSchedule would reject names the file and the key instead of trapping.
        try write("unet", g.unet.stateDict()) { $0.unet = Tiny.unet; $0.noise = NoiseConfig(betaStart: 0.5, betaEnd: 1.5) }
        #expect { _ = try Generator.load(directory: dir) } throws: { "\($0)".contains("unet.safetensors") && "\($0)".contains("`noise`") }
        // Edit one byte of the U-Net weights: its record's SHA-256 no longer matches.
        let u = dir.appendingPathComponent("unet.safetensors")
        var bytes = try Data(contentsOf: u)
        bytes[bytes.count - 1] ^= 0xFF
        try bytes.write(to: u)
        #expect(throws: PretrainedError.self) { _ = try Generator.load(directory: dir) }
    }

    /// A U-Net trained with its own tuned text tower (`textEncoderFile` in its record): every generator
    /// built from it encodes prompts with that tower, not CLIP's; the file is checked against the record's
    /// SHA-256 and loaded strictly (HF `CLIPTextModel` keys).
    @Test func aUNetsOwnTextTowerIsTheGeneratorsTextEncoder() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gen-text-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let clip = try CLIPModel(config: CLIPConfig(vision: Tiny.vision, text: Tiny.text, embedDim: 8), key: RNGKey(seed: 4))
        let tuned = try TextEncoder(config: Tiny.text, key: RNGKey(seed: 11))
        let g = try Tiny.generator(seed: 4)
        let towerFile = tuned.standaloneFile()
        #expect(towerFile.tensors.keys.allSatisfy { $0.hasPrefix("text_model.") } && towerFile.tensors.count == tuned.namedParameters().count)
        let tower = SafeTensors.encode(towerFile)
        try tower.write(to: dir.appendingPathComponent("unet-text-model.safetensors"))
        func write(_ name: String, _ f: SafeTensorsFile, _ edit: (inout PretrainRecord) -> Void) throws {
            try Self.writeCheckpoint(name, f, into: dir, edit)
        }
        func writeUNet(sha: String?) throws {
            try write("unet", g.unet.stateDict()) {
                $0.unet = Tiny.unet; $0.noise = NoiseConfig(trainSteps: 100, betaStart: 1e-3, betaEnd: 0.05)
                $0.textEncoderFile = "unet-text-model.safetensors"; $0.textEncoderSHA256 = sha
            }
        }
        try write("clip", clip.stateDict()) { $0.clip = clip.config }
        try writeUNet(sha: SHA256.hex(tower))
        try write("adapter", PretrainedModels.adapterFile(unet: g.unet, resampler: g.resampler!)) { $0.resampler = Tiny.resampler; $0.imageEncoderLayer = 2 }
        for adapter in [false, true] {
            let loaded = try Generator.load(directory: dir, adapter: adapter)
            let prompts = ["a red mug in the park"]
            #expect(loaded.textStates(prompts) == withNoGrad { tuned.forward(loaded.encode(prompts)).states.value })
            #expect(loaded.textStates(prompts) != withNoGrad { clip.textModel.forward(loaded.encode(prompts)).states.value })
        }
        // A record naming the tower without its SHA-256, and an edited tower, are refused naming the file.
        try writeUNet(sha: nil)
        #expect { _ = try Generator.load(directory: dir) } throws: { "\($0)".contains("unet-text-model.safetensors") && "\($0)".contains("textEncoderSHA256") }
        try writeUNet(sha: SHA256.hex(tower))
        var bytes = tower
        bytes[bytes.count - 1] ^= 0xFF
        try bytes.write(to: dir.appendingPathComponent("unet-text-model.safetensors"))
        #expect { _ = try Generator.load(directory: dir) } throws: { "\($0)".contains("unet-text-model.safetensors") && "\($0)".contains("sha256") }
        // A tower of another shape (CLIP's whole file) fails strict loading, naming the file.
        let wrong = SafeTensors.encode(clip.stateDict())
        try wrong.write(to: dir.appendingPathComponent("unet-text-model.safetensors"))
        try writeUNet(sha: SHA256.hex(wrong))
        #expect { _ = try Generator.load(directory: dir) } throws: { "\($0)".contains("unet-text-model.safetensors") }
    }
}
