import BenchKit
import Checkpoint
import Generation
import Imaging
import Models
import NN
import Random
import Testing
import World

/// The bench's `jedi` row (issue 17 item 5) on a tiny random JeDi generator: every (prompt, k) is one joint set
/// sampled from the plan's seed, the same as `generateJeDi` on that set; the bench's IP-Adapter options do not reach
/// JeDi; several references make a bigger set.
@Suite struct JeDiBenchTests {
    static func generator() throws -> Generator {
        let base = try SamplingTests.generator()
        let unet = try JeDiUNet.fromBase(base.unet)
        var w = unet.convIn.weight.value
        let noise = Init.normal(w.shape, key: RNGKey(seed: 8))
        for (i, x) in noise.scalars.enumerated() where [0, 4, 5, 6].contains((i / 9) % 7) { w.scalars[i] = 0.2 * x }
        unet.convIn.weight.value = w
        return Generator(textEncoder: base.textEncoder, imageEncoder: nil, resampler: nil, unet: unet, schedule: base.schedule, resolution: 16)
    }

    @Test func everyImageIsOneJointSetFromThePlansSeed() throws {
        let g = try Self.generator()
        let subject = BenchPlanner.world(subjects: 1, prompts: 2, imagesPerPrompt: 2, seed: 3)[0]
        let refs = try BenchReferences.world(try #require(subject.worldSubject), count: 2, size: 16)
        // The bench's options carry IP-Adapter settings JeDi refuses; the row drops them.
        let bench = SamplingOptions(steps: 2, guidanceScale: 2, ipScale: 0.5, referenceAttention: .conditional)
        let got = try JeDiBench.sample(g, subject: subject, conditioning: [refs[0]], options: bench)
        #expect(got.map(\.prompt) == [0, 0, 1, 1] && got.map(\.k) == [0, 1, 0, 1])
        #expect(got.map(\.seed) == subject.prompts.flatMap(\.seeds))
        let caption = JeDiBench.referencePrompt(subject)
        #expect(caption == Prompts.plain(subject.worldSubject!.category, .clean, seed: 0))
        let third = try g.generateJeDi(references: [refs[0]], referencePrompts: [caption], prompts: [subject.prompts[1].text],
                                       seed: subject.prompts[1].seeds[0], options: SamplingOptions(steps: 2, guidanceScale: 2))
        #expect(got[2].image == third[0])
        #expect(got[0].image != got[1].image, "another seed, another image")
        let both = try JeDiBench.sample(g, subject: subject, conditioning: refs, options: bench)
        #expect(both.count == 4 && both[0].image != got[0].image, "the second reference joins the set")
        var folder = subject
        folder.category = nil; folder.instance = nil; folder.noun = "dog"
        #expect(JeDiBench.referencePrompt(folder) == Prompts.fill(Prompts.templates[0], object: "dog", background: .clean))
    }

    /// dpo-train's JeDi weights load strictly: exactly one JeDiTrainable set (here the coupled self-attention), each with
    /// its weight's shape; a file missing one of the set's keys, or with a key outside every set, is refused.
    @Test func trainedJeDiWeightsLoadStrictly() throws {
        let source = try Self.generator().unet, target = try Self.generator().unet
        var file = SafeTensorsFile()
        for (k, p) in JeDiTrainable.attention.parameters(of: source) {
            file.tensors[k] = TensorData(shape: p.shape, values: p.value.scalars.map { $0 + 0.5 })
        }
        try JeDiBench.apply(file, path: "jedi-dm-s1.safetensors", to: target)
        let loaded = Dictionary(uniqueKeysWithValues: target.namedParameters().map { ($0.0, $0.1.value.scalars) })
        #expect(file.tensors.allSatisfy { loaded[$0.key] == $0.value.values })
        #expect(loaded["conv_in.weight"] == source.namedParameters().first { $0.0 == "conv_in.weight" }!.1.value.scalars)
        var missing = file
        missing.tensors.removeValue(forKey: missing.tensors.keys.sorted()[0])
        #expect(throws: BenchError.self) { try JeDiBench.apply(missing, path: "m.safetensors", to: target) }
        var extra = file
        extra.tensors["conv_in.weight"] = TensorData(shape: [1], values: [0])
        #expect(throws: BenchError.self) { try JeDiBench.apply(extra, path: "e.safetensors", to: target) }
    }
}
