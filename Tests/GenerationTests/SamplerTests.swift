import Diffusion
import Foundation
import Imaging
import Models
import Random
import Testing
import TensorCore
@testable import Generation

@Suite struct SamplerTests {
    let prompts = ["a mug in the forest", "a ball on the beach"]

    @Test func batchedGuidedPairEqualsSeparatePasses() throws {
        let g = try Tiny.generator()
        let c = g.conditioning(prompts: prompts, references: Tiny.references(2))
        let x = Init_normal([2, 3, 16, 16], key: .init(seed: 3))
        let pair = g.guidedPair(x, timestep: 40, c, ipScale: 0.8)
        let cond = g.predictNoise(x, timestep: 40, text: c.text, imageTokens: c.image, ipScale: 0.8)
        let uncond = g.predictNoise(x, timestep: 40, text: c.nullText, imageTokens: c.nullImage, ipScale: 0.8)
        #expect(Tiny.maxAbsDiff(pair.cond, cond) < 1e-5)
        #expect(Tiny.maxAbsDiff(pair.uncond, uncond) < 1e-5)
        #expect(Tiny.maxAbsDiff(pair.cond, pair.uncond) > 1e-4, "the null branch must differ from the conditional one")
    }

    /// Several references per prompt: their tokens are concatenated per row (row-major), the null tokens
    /// repeated as often. A set of two copies of one image attends exactly like that image alone (each
    /// key appears twice with the same value), so it samples the same; two different images do not.
    @Test func multiReferenceConditioningConcatenatesTokensPerRow() throws {
        let g = try Tiny.generator()
        let refs = Tiny.references(4)                                    // rows: (r0, r1), (r2, r3)
        let c = g.conditioning(prompts: prompts, references: refs, perRow: 2)
        let each = g.imageTokens(refs)                                   // [4, Nq, D]
        #expect(c.image!.shape == [2, 2 * each.shape[1], each.shape[2]])
        #expect(c.image!.scalars == each.scalars, "row i holds references 2i and 2i+1, in order")
        #expect(c.nullImage!.shape == c.image!.shape)
        let one = g.nullImageTokens(batch: 1).scalars
        #expect(c.nullImage!.scalars == Array(repeating: one, count: 4).flatMap { $0 })

        let opts = SamplingOptions(steps: 3, guidanceScale: 3)
        let single = Tiny.references(2)
        let per = single.count / 2
        let doubled = Tensor(shape: [4, 3, 16, 16], scalars: Array(single.scalars[0..<per]) + Array(single.scalars[0..<per])
                             + Array(single.scalars[per...]) + Array(single.scalars[per...]))
        let a = try Sampler.sample(g, prompts: prompts, references: single, seeds: [5, 6], options: opts)
        let b = try Sampler.sample(g, prompts: prompts, references: doubled, referencesPerRow: 2, seeds: [5, 6], options: opts)
        #expect(Tiny.maxAbsDiff(a, b) < 1e-4, "a duplicated reference conditions like the reference alone")
        let mixed = try Sampler.sample(g, prompts: prompts, references: refs, referencesPerRow: 2, seeds: [5, 6], options: opts)
        #expect(Tiny.maxAbsDiff(a, mixed) > 1e-3, "a second, different reference changes the sample")
        #expect(throws: GenerationError.self) {
            try Sampler.sample(g, prompts: prompts, references: single, referencesPerRow: 2, seeds: [5, 6], options: opts)
        }
        let images = Sampler.images(single)
        #expect(throws: GenerationError.self) {
            try g.generate(prompts: prompts, referenceSets: [[images[0]], [images[0], images[1]]], seeds: [5, 6], options: opts)
        }
    }

    @Test func nullImageTokensAreTheResampledZeroImage() throws {
        let g = try Tiny.generator()
        let zero = g.imageTokens(Tensor(zeros: [1, 3, 16, 16]))
        let null = g.nullImageTokens(batch: 3)
        #expect(null.shape == [3, 4, 16])
        for b in 0..<3 {
            #expect(Array(null.scalars[(b * zero.count)..<((b + 1) * zero.count)]) == zero.scalars)
        }
    }

    /// The loop re-derived by hand from DDIMScheduler and the conditional/unconditional passes.
    @Test func sampleMatchesAHandWrittenCFGLoop() throws {
        let g = try Tiny.generator()
        let refs = Tiny.references(2)
        let opts = SamplingOptions(steps: 4, guidanceScale: 3, ipScale: 1)
        let got = try Sampler.sample(g, prompts: prompts, references: refs, seeds: [5, 6], options: opts)
        let sched = DDIMScheduler(schedule: g.schedule, clipSample: true, setAlphaToOne: false, spacing: .trailing)
        let c = g.conditioning(prompts: prompts, references: refs)
        let x = Self.cfgLoop(g, from: g.initialNoise(seeds: [5, 6]), timesteps: sched.timesteps(steps: 4), c, scale: 3, sched)
        #expect(Tiny.maxAbsDiff(got, x) < 1e-4)
    }

    /// `precision = bf16` runs the chain's products in BF16 (close to FP32, not equal) and is the sampler's own: the
    /// caller's task-local does not leak into an FP32 sample; options encoded before the field decode as FP32.
    @Test(.enabled(if: GEMMPrecision.bf16Available, "this CPU has no AVX512-BF16"))
    func bf16PrecisionIsTheOptionsAndStaysNearFP32() throws {
        let g = try Tiny.generator()
        let refs = Tiny.references(2)
        var opts = SamplingOptions(steps: 4, guidanceScale: 3, ipScale: 1)
        let fp32 = try Sampler.sample(g, prompts: prompts, references: refs, seeds: [5, 6], options: opts)
        let fp32UnderBF16Caller = try GEMMPrecision.with(.bf16) {
            try Sampler.sample(g, prompts: prompts, references: refs, seeds: [5, 6], options: opts)
        }
        #expect(fp32UnderBF16Caller == fp32, "an FP32 sample changed under a caller's BF16 precision")
        opts.precision = .bf16
        let bf16 = try Sampler.sample(g, prompts: prompts, references: refs, seeds: [5, 6], options: opts)
        #expect(bf16 != fp32, "precision bf16 sampled bit-identically to fp32: the option did not reach the products")
        #expect(Tiny.maxAbsDiff(bf16, fp32) < 0.1, "BF16 sample far from FP32: \(Tiny.maxAbsDiff(bf16, fp32))")
        let old = try JSONEncoder().encode(SamplingOptions(steps: 4))
        var dict = try #require(JSONSerialization.jsonObject(with: old) as? [String: Any])
        dict["precision"] = nil
        let decoded = try JSONDecoder().decode(SamplingOptions.self, from: JSONSerialization.data(withJSONObject: dict))
        #expect(decoded.precision == .fp32 && decoded == SamplingOptions(steps: 4))
    }

    /// The sampler's CFG chain written out: DDIM steps of eps_u + w (eps_c - eps_u) at `timesteps` (4 steps' spacing).
    static func cfgLoop(_ g: Generator, from x0: Tensor, timesteps: [Int], _ c: Conditioning, scale w: Float, _ sched: DDIMScheduler) -> Tensor {
        var x = x0
        for t in timesteps {
            let e1 = g.predictNoise(x, timestep: t, text: c.text, imageTokens: c.image, ipScale: 1)
            let e0 = g.predictNoise(x, timestep: t, text: c.nullText, imageTokens: c.nullImage, ipScale: 1)
            var e = e0
            for i in e.scalars.indices { e.scalars[i] = e0.scalars[i] + w * (e1.scalars[i] - e0.scalars[i]) }
            x = sched.step(epsilon: e, timestep: t, sample: x, steps: 4)
        }
        return x
    }

    /// SDEdit (`start`): the images diffused with the seed's x_T noise to the first kept timestep, then the last
    /// round(strength x steps) steps of the same chain; strength 0 gives the images back; bad strengths and shapes are named.
    @Test func startFromImagesRunsTheLastStepsOfTheChain() throws {
        let g = try Tiny.generator()
        let refs = Tiny.references(2), images = Tiny.references(2, seed: 21)
        let opts = SamplingOptions(steps: 4, guidanceScale: 3, ipScale: 1)
        let got = try Sampler.sample(g, prompts: prompts, references: refs, seeds: [5, 6], options: opts,
                                     start: Sampler.Start(images: images, strength: 0.5))
        let sched = DDIMScheduler(schedule: g.schedule, clipSample: true, setAlphaToOne: false, spacing: .trailing)
        let c = g.conditioning(prompts: prompts, references: refs)
        let kept = Array(sched.timesteps(steps: 4).suffix(2))
        let x = Self.cfgLoop(g, from: g.schedule.addNoise(images, noise: g.initialNoise(seeds: [5, 6]), timesteps: [kept[0], kept[0]]),
                             timesteps: kept, c, scale: 3, sched)
        #expect(Tiny.maxAbsDiff(got, x) < 1e-4)
        let none = try Sampler.sample(g, prompts: prompts, references: refs, seeds: [5, 6], options: opts,
                                      start: Sampler.Start(images: images, strength: 0))
        #expect(Tiny.maxAbsDiff(none, images) == 0)
        #expect { try Sampler.sample(g, prompts: prompts, references: refs, seeds: [5, 6], options: opts,
                                     start: Sampler.Start(images: images, strength: 1.5)) } throws: { "\($0)".contains("strength") }
        #expect { try Sampler.sample(g, prompts: prompts, references: refs, seeds: [5, 6], options: opts,
                                     start: Sampler.Start(images: Tiny.references(1), strength: 0.5)) } throws: { "\($0)".contains("start images") }
    }

    @Test func anImageDependsOnItsSeedNotOnItsBatch() throws {
        let g = try Tiny.generator(adapter: false)
        let opts = SamplingOptions(steps: 3, guidanceScale: 2)
        let both = try Sampler.sample(g, prompts: prompts, references: nil, seeds: [11, 12], options: opts)
        let alone = try Sampler.sample(g, prompts: [prompts[1]], references: nil, seeds: [12], options: opts)
        let per = alone.count
        #expect(Tiny.maxAbsDiff(Tensor(shape: alone.shape, scalars: Array(both.scalars[per...])), alone) < 1e-4)
        let other = try Sampler.sample(g, prompts: [prompts[1]], references: nil, seeds: [13], options: opts)
        #expect(Tiny.maxAbsDiff(other, alone) > 1e-2)
    }

    @Test func rewardGuidanceWithTheSameModelIsPlainCFG() throws {
        let g = try Tiny.generator(), ref = try Tiny.generator()
        let refs = Tiny.references(2)
        let plain = try Sampler.sample(g, prompts: prompts, references: refs, seeds: [1, 2],
                                       options: SamplingOptions(steps: 3, guidanceScale: 4))
        let rg = try Sampler.sample(g, reference: ref, prompts: prompts, references: refs, seeds: [1, 2],
                                    options: SamplingOptions(steps: 3, guidanceScale: 4, rewardScale: 2.5))
        #expect(Tiny.maxAbsDiff(plain, rg) < 1e-4)
        // A different reference model changes the result.
        let other = try Tiny.generator(seed: 2)
        let rg2 = try Sampler.sample(g, reference: other, prompts: prompts, references: refs, seeds: [1, 2],
                                     options: SamplingOptions(steps: 3, guidanceScale: 4, rewardScale: 2.5))
        #expect(Tiny.maxAbsDiff(plain, rg2) > 1e-3)
    }

    /// Decoupled image guidance: its three branches are the three separate passes, s_I = w samples
    /// exactly as plain CFG, and another s_I changes the images.
    @Test func decoupledImageGuidanceBranchesAndItsPlainCFGCase() throws {
        let g = try Tiny.generator()
        let refs = Tiny.references(2)
        let c = g.conditioning(prompts: prompts, references: refs)
        let x = Init_normal([2, 3, 16, 16], key: .init(seed: 4))
        let triple = g.guidedTriple(x, timestep: 30, c, ipScale: 1)
        let textOnly = g.predictNoise(x, timestep: 30, text: c.text, imageTokens: c.nullImage, ipScale: 1)
        let cond = g.predictNoise(x, timestep: 30, text: c.text, imageTokens: c.image, ipScale: 1)
        let uncond = g.predictNoise(x, timestep: 30, text: c.nullText, imageTokens: c.nullImage, ipScale: 1)
        #expect(Tiny.maxAbsDiff(triple.cond, cond) < 1e-5)
        #expect(Tiny.maxAbsDiff(triple.textOnly, textOnly) < 1e-5)
        #expect(Tiny.maxAbsDiff(triple.uncond, uncond) < 1e-5)
        #expect(Tiny.maxAbsDiff(triple.cond, triple.textOnly) > 1e-4, "the reference must change the prediction")
        let plain = try Sampler.sample(g, prompts: prompts, references: refs, seeds: [1, 2], options: SamplingOptions(steps: 3, guidanceScale: 2))
        let same = try Sampler.sample(g, prompts: prompts, references: refs, seeds: [1, 2],
                                      options: SamplingOptions(steps: 3, guidanceScale: 2, imageGuidanceScale: 2))
        #expect(Tiny.maxAbsDiff(plain, same) < 1e-4)
        let stronger = try Sampler.sample(g, prompts: prompts, references: refs, seeds: [1, 2],
                                          options: SamplingOptions(steps: 3, guidanceScale: 2, imageGuidanceScale: 4))
        #expect(Tiny.maxAbsDiff(plain, stronger) > 1e-3)
        #expect(throws: GenerationError.invalidOption(field: "imageGuidanceScale", reason: "nan is not finite")) {
            _ = try Sampler.sample(g, prompts: prompts, references: refs, seeds: [1, 2],
                                   options: SamplingOptions(steps: 2, imageGuidanceScale: .nan))
        }
    }

    @Test func adaptiveNormalisationAgainstItselfChangesNothing() throws {
        let g = try Tiny.generator(), same = try Tiny.generator()
        let refs = Tiny.references(2)
        let plain = try Sampler.sample(g, prompts: prompts, references: refs, seeds: [3, 4], options: SamplingOptions(steps: 3))
        let normed = try Sampler.sample(g, reference: same, prompts: prompts, references: refs, seeds: [3, 4],
                                        options: SamplingOptions(steps: 3, adaptiveNormalization: true))
        #expect(Tiny.maxAbsDiff(plain, normed) < 1e-3)
        // Against another model every (sample, channel) plane takes the other chain's statistics.
        let other = try Tiny.generator(seed: 5)
        let normed2 = try Sampler.sample(g, reference: other, prompts: prompts, references: refs, seeds: [3, 4],
                                         options: SamplingOptions(steps: 3, adaptiveNormalization: true))
        let otherChain = try Sampler.sample(other, prompts: prompts, references: refs, seeds: [3, 4], options: SamplingOptions(steps: 3))
        let a = meanStd(normed2.scalars[0..<256]), b = meanStd(otherChain.scalars[0..<256])
        #expect(abs(a.0 - b.0) < 1e-3 && abs(a.1 - b.1) < 1e-3)
    }

    @Test func badRequestsAreTypedErrors() throws {
        let g = try Tiny.generator()
        #expect(throws: GenerationError.self) {
            _ = try Sampler.sample(g, prompts: prompts, references: nil, seeds: [1], options: SamplingOptions(steps: 2))
        }
        #expect(throws: GenerationError.invalidOption(field: "rewardScale", reason: "needs a reference generator (the model before finetuning)")) {
            _ = try Sampler.sample(g, prompts: prompts, references: nil, seeds: [1, 2], options: SamplingOptions(steps: 2, rewardScale: 1))
        }
        #expect(throws: GenerationError.self) {
            _ = try Sampler.sample(g, prompts: prompts, references: Tiny.references(1), seeds: [1, 2], options: SamplingOptions(steps: 2))
        }
        #expect(throws: GenerationError.self) {
            _ = try Sampler.sample(g, prompts: prompts, references: nil, seeds: [1, 2], options: SamplingOptions(steps: 0))
        }
    }

    /// A gray reference PNG (other tools write them) decodes as RGB and is accepted as a reference; it was
    /// decoded as 1 channel and refused ("references[0]: 1 channels; want RGB").
    @Test func grayReferencePNGIsAccepted() throws {
        let gray = Image(unchecked: 16, 16, 1, (0..<256).map { UInt8($0) })
        let decoded = try PNG.decode(try PNG.encode(gray), name: "gray.png")
        #expect(decoded.channels == 3)
        let t = try Sampler.tensor([decoded], size: 16)
        #expect(t.shape == [1, 3, 16, 16])
        #expect(Array(t.scalars[0..<256]) == Array(t.scalars[256..<512]) && Array(t.scalars[0..<256]) == Array(t.scalars[512..<768]))
    }

    @Test func imagesRoundTripThroughTensors() throws {
        let t = Tiny.references(2)
        let imgs = Sampler.images(t)
        #expect(imgs.count == 2 && imgs[0].width == 16 && imgs[0].channels == 3)
        let back = try Sampler.tensor(imgs, size: 16)
        #expect(Tiny.maxAbsDiff(back, t) <= 1 / 127.5 + 1e-6)
    }
}

func meanStd(_ v: ArraySlice<Float>) -> (Float, Float) {
    let n = Double(v.count), m = v.reduce(0.0) { $0 + Double($1) } / n
    let s = (v.reduce(0.0) { $0 + (Double($1) - m) * (Double($1) - m) } / n).squareRoot()
    return (Float(m), Float(s))
}

@Suite struct LatentSamplerTests {
    @Test func aLatentGeneratorDenoisesLatentsAndReturnsDecodedImages() throws {
        let g = try Tiny.latentGenerator()
        let vae = try #require(g.vae)
        #expect(g.sampleShape == [4, 8, 8])
        #expect(g.initialNoise(seeds: [1, 2]).shape == [2, 4, 8, 8])
        let opts = SamplingOptions(steps: 3, guidanceScale: 2)
        let x = try Sampler.sample(g, prompts: ["a mug in the forest"], references: nil, seeds: [5], options: opts)
        #expect(x.shape == [1, 3, 16, 16])
        // The same loop by hand in latent space (no x0 clipping), then the decoder.
        let sched = DDIMScheduler(schedule: g.schedule, clipSample: false, setAlphaToOne: false, spacing: .trailing)
        let c = g.conditioning(prompts: ["a mug in the forest"], references: nil)
        var z = g.initialNoise(seeds: [5])
        for t in sched.timesteps(steps: 3) {
            let p = g.guidedPair(z, timestep: t, c, ipScale: 1)
            var e = p.uncond
            for i in e.scalars.indices { e.scalars[i] = p.uncond.scalars[i] + 2 * (p.cond.scalars[i] - p.uncond.scalars[i]) }
            z = sched.step(epsilon: e, timestep: t, sample: z, steps: 3)
        }
        #expect(Tiny.maxAbsDiff(x, vae.decode(latents: z)) < 1e-4)
        #expect(Tiny.maxAbsDiff(g.diffusionSpace(x), vae.latents(of: x)) == 0)
    }
}
