import BenchKit
import Diffusion
import Generation
import Imaging
import Models
import Random
import Testing
import World

/// BenchSampling on a tiny random generator: every (prompt, k) once, with the plan's seed, and
/// the batch size does not change an image.
@Suite struct SamplingTests {
    static func generator() throws -> Generator {
        let k = RNGKey(seed: 5)
        let te = try TextEncoder(config: TextEncoderConfig(vocabSize: 128, maxLength: 12, width: 16, depth: 1, heads: 2, mlpDim: 32),
                                 key: k.fold(in: "text"))
        let unet = try UNet2DConditionModel(config: UNetConfig(blockOutChannels: [8, 16], layersPerBlock: 1, crossAttentionDim: 16, heads: 2),
                                            key: k.fold(in: "unet"))
        let vit = try ViT(config: ViTConfig(imageSize: 16, patchSize: 4, width: 16, depth: 2, heads: 2, mlpDim: 32), key: k.fold(in: "vit"))
        let r = try Resampler(config: ResamplerConfig(embeddingDim: 16, dim: 16, depth: 1, heads: 2, dimHead: 8, numQueries: 4, outputDim: 16),
                              key: k.fold(in: "resampler"))
        return Generator(textEncoder: te, imageEncoder: ViTReferenceEncoder(vit: vit, layer: 1), resampler: r, unet: unet,
                         schedule: NoiseSchedule(.linear, trainSteps: 100, betaStart: 1e-3, betaEnd: 0.05), resolution: 16)
    }

    static func maxDiff(_ a: [Image], _ b: [Image]) -> Int {
        precondition(a.count == b.count, "maxDiff: \(a.count) vs \(b.count) images")
        return zip(a, b).map { x, y in zip(x.pixels, y.pixels).map { abs(Int($0) - Int($1)) }.max() ?? 0 }.max() ?? 0
    }

    @Test func everyPromptAndSeedOnceWhateverTheBatch() throws {
        let g = try Self.generator()
        let subject = BenchPlanner.world(subjects: 1, prompts: 2, imagesPerPrompt: 2, seed: 3)[0]
        let ref = try BenchReferences.world(try #require(subject.worldSubject), count: 1, size: 16)[0]
        let opts = SamplingOptions(steps: 2)
        let a = try BenchSampling.sample(g, reference: nil, subject: subject, conditioning: [ref], options: opts, batch: 3)
        let b = try BenchSampling.sample(g, reference: nil, subject: subject, conditioning: [ref], options: opts, batch: 1)
        #expect(a.map(\.prompt) == [0, 0, 1, 1] && a.map(\.k) == [0, 1, 0, 1])
        #expect(a.map(\.seed) == subject.prompts.flatMap(\.seeds))
        // Batched BLAS may round differently: equal up to one or two 8-bit levels.
        #expect(Self.maxDiff(a.map(\.image), b.map(\.image)) <= 2)
        #expect(Self.maxDiff([a[0].image], [a[1].image]) > 20)
        // Reward guidance against the text-only model: w_rg = 0 gives the text-only model's images.
        let textOnly = Generator(textEncoder: g.textEncoder, imageEncoder: nil, resampler: nil, unet: g.unet,
                                 schedule: g.schedule, resolution: 16)
        var o0 = opts
        o0.rewardScale = 0
        let guided = try BenchSampling.sample(g, reference: textOnly, subject: subject, conditioning: [ref], options: o0, batch: 4)
        let plain = try textOnly.generate(prompts: subject.prompts.flatMap { p in p.seeds.map { _ in p.text } }, references: nil,
                                          seeds: subject.prompts.flatMap(\.seeds), options: opts)
        #expect(Self.maxDiff(guided.map(\.image), plain) <= 2)
    }
}
