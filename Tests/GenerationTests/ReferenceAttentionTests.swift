import Autograd
import Foundation
import Imaging
import Models
import Testing
import TensorCore
@testable import Generation

/// Reference attention (Sources/Generation/ReferenceAttention.swift, Sources/Models/ReferenceSetMask.swift):
/// the mask's layout, and the two properties that make it safe to switch on. With no reference foreground
/// the generated image's attention reads only its own keys, so sampling equals plain sampling (to float
/// rounding, 1e-4 over 3 DDIM steps); and the reference's queries never see the generated image's keys, so
/// the reference rows of a coupled pass equal a lone pass over the references (1e-5).
@Suite struct ReferenceAttentionTests {
    let prompts = ["a mug in the forest", "a ball on the beach"]

    /// One set, a 4 x 4 foreground whose top-left 2 x 2 block is object, pooled to a 2 x 2 level.
    @Test func maskLayout() {
        var fg = [Float](repeating: 0, count: 16)
        for (y, x) in [(0, 0), (0, 1), (1, 0), (1, 1)] { fg[y * 4 + x] = 1 }
        fg[2] = 1                                   // a quarter of cell (0, 1): below half, stays background
        let m = ReferenceSetMask(foreground: Tensor(shape: [1, 4, 4], scalars: fg), bias: 0.5).additive(height: 2, width: 2)
        #expect(m.shape == [1, 1, 8, 8])
        let v = { (q: Int, k: Int) in m.scalars[q * 8 + k] }
        for q in 0..<4 {
            for k in 0..<4 { #expect(v(q, k) == 0, "reference queries see the reference's keys") }
            for k in 4..<8 { #expect(v(q, k) <= -1e8, "reference queries never see the generated image's keys") }
        }
        for q in 4..<8 {
            #expect(v(q, 0) == 0.5, "the reference's foreground key carries the bias")
            for k in 1..<4 { #expect(v(q, k) <= -1e8, "the reference's background keys are masked") }
            for k in 4..<8 { #expect(v(q, k) == 0, "the generated image sees all of its own keys") }
        }
    }

    /// Two references per set, a 2 x 2 level (L = 4): each reference sees only itself; the image sees itself and the
    /// foreground keys of both references (reference 0: cell 0; reference 1: cells 2 and 3).
    @Test func maskLayoutWithTwoReferences() {
        var fg = [Float](repeating: 0, count: 32)
        fg[0] = 1                                                  // reference 0, token 0
        for i in [16 + 8, 16 + 9, 16 + 12, 16 + 13, 16 + 10, 16 + 11, 16 + 14, 16 + 15] { fg[i] = 1 }   // reference 1, tokens 2, 3
        for i in [1, 4, 5] { fg[i] = 1 }                             // reference 0's token 0 is whole
        let m = ReferenceSetMask(foreground: Tensor(shape: [2, 4, 4], scalars: fg), referencesPerSet: 2).additive(height: 2, width: 2)
        #expect(m.shape == [1, 1, 12, 12])
        let v = { (q: Int, k: Int) in m.scalars[q * 12 + k] }
        for j in 0..<2 {
            for q in (4 * j)..<(4 * j + 4) {
                for k in 0..<12 { #expect((v(q, k) == 0) == (k / 4 == j), "reference \(j)'s query \(q) sees only its own keys (key \(k))") }
            }
        }
        for q in 8..<12 {
            let seen = (0..<8).filter { v(q, $0) == 0 }
            #expect(seen == [0, 6, 7], "the image reads reference 0's token 0 and reference 1's tokens 2 and 3, got \(seen)")
            for k in 8..<12 { #expect(v(q, k) == 0) }
        }
        let sets = ReferenceSetMask.sets(references: Tensor(shape: [4, 1], scalars: [1, 2, 3, 4]), images: Tensor(shape: [2, 1], scalars: [9, 8]))
        #expect(sets.scalars == [1, 2, 9, 3, 4, 8])
        #expect(ReferenceSetMask.imageRows(sets, setSize: 3).scalars == [9, 8])
        #expect(ReferenceSetMask.repeated(Tensor(shape: [2, 1], scalars: [9, 8]), copies: 3).scalars == [9, 9, 9, 8, 8, 8])
    }

    /// With two references per prompt: no foreground samples like plain CFG on the same two-reference conditioning,
    /// and each reference's foreground changes the sample.
    @Test func twoReferencesPerPrompt() throws {
        let g = try Tiny.generator()
        let refs = Tiny.references(4)
        let plainOptions = SamplingOptions(steps: 3, guidanceScale: 3)
        let opts = SamplingOptions(steps: 3, guidanceScale: 3, referenceAttention: .conditional)
        let plain = try Sampler.sample(g, prompts: prompts, references: refs, referencesPerRow: 2, seeds: [5, 6], options: plainOptions)
        let none = try Sampler.sample(g, prompts: prompts, references: refs, referencesPerRow: 2, seeds: [5, 6], options: opts,
                                      referenceForeground: Tensor(zeros: [4, 16, 16]))
        #expect(Tiny.maxAbsDiff(plain, none) < 1e-4)
        let ones = Tensor(shape: [4, 16, 16], scalars: [Float](repeating: 1, count: 1024))
        let all = try Sampler.sample(g, prompts: prompts, references: refs, referencesPerRow: 2, seeds: [5, 6], options: opts, referenceForeground: ones)
        #expect(Tiny.maxAbsDiff(plain, all) > 1e-3)
        // Only reference 0 of each prompt in the foreground: the image reads one reference, not both, so the sample
        // differs from reading both and from reading none.
        var first = [Float](repeating: 0, count: 1024)
        for i in 0..<2 { for p in 0..<256 { first[(2 * i) * 256 + p] = 1 } }
        let firstOnly = try Sampler.sample(g, prompts: prompts, references: refs, referencesPerRow: 2, seeds: [5, 6], options: opts,
                                           referenceForeground: Tensor(shape: [4, 16, 16], scalars: first))
        #expect(Tiny.maxAbsDiff(firstOnly, all) > 1e-4 && Tiny.maxAbsDiff(firstOnly, plain) > 1e-4)
    }

    @Test func pairsAndImageRowsRoundTrip() {
        let a = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6]), b = Tensor(shape: [2, 3], scalars: [7, 8, 9, 10, 11, 12])
        let p = ReferenceSetMask.pairs(references: a, images: b)
        #expect(p.scalars == [1, 2, 3, 7, 8, 9, 4, 5, 6, 10, 11, 12])
        #expect(ReferenceSetMask.imageRows(p).scalars == b.scalars)
        #expect(ReferenceSetMask.imageRows(Variable(p)).value.scalars == b.scalars)
        #expect(ReferenceSetMask.twice(Variable(a)).value.scalars == [1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6])
    }

    @Test(arguments: ReferenceAttention.allCases)
    func noForegroundSamplesLikePlainCFG(mode: ReferenceAttention) throws {
        let g = try Tiny.generator()
        let refs = Tiny.references(2)
        let plain = try Sampler.sample(g, prompts: prompts, references: refs, seeds: [5, 6], options: SamplingOptions(steps: 3, guidanceScale: 3))
        let opts = SamplingOptions(steps: 3, guidanceScale: 3, referenceAttention: mode)
        let none = try Sampler.sample(g, prompts: prompts, references: refs, seeds: [5, 6], options: opts,
                                      referenceForeground: Tensor(zeros: [2, 16, 16]))
        #expect(Tiny.maxAbsDiff(plain, none) < 1e-4)
        let all = try Sampler.sample(g, prompts: prompts, references: refs, seeds: [5, 6], options: opts,
                                     referenceForeground: Tensor(shape: [2, 16, 16], scalars: [Float](repeating: 1, count: 512)))
        #expect(Tiny.maxAbsDiff(plain, all) > 1e-3, "attending to the reference must change the sample")
    }

    /// Reward guidance and adaptive normalisation run their reference chains coupled too: with no foreground both
    /// equal their plain forms, with the whole reference they differ; so with the references' keys made once
    /// (reference timestep 0), each network reading its own.
    @Test(arguments: [nil, 0])
    func rewardGuidanceAndAdaptiveNormalisationCouple(referenceTimestep: Int?) throws {
        let g = try Tiny.generator(seed: 1), base = try Tiny.generator(seed: 2)
        let refs = Tiny.references(2)
        for var o in [SamplingOptions(steps: 3, guidanceScale: 3, rewardScale: 2, referenceTimestep: referenceTimestep),
                      SamplingOptions(steps: 3, guidanceScale: 3, adaptiveNormalization: true, referenceTimestep: referenceTimestep)] {
            let plain = try Sampler.sample(g, reference: base, prompts: prompts, references: refs, seeds: [5, 6], options: o)
            o.referenceAttention = .conditional
            let none = try Sampler.sample(g, reference: base, prompts: prompts, references: refs, seeds: [5, 6], options: o,
                                          referenceForeground: Tensor(zeros: [2, 16, 16]))
            #expect(Tiny.maxAbsDiff(plain, none) < 1e-4)
            let all = try Sampler.sample(g, reference: base, prompts: prompts, references: refs, seeds: [5, 6], options: o,
                                         referenceForeground: Tensor(shape: [2, 16, 16], scalars: [Float](repeating: 1, count: 512)))
            #expect(Tiny.maxAbsDiff(plain, all) > 1e-3)
        }
    }

    @Test func referenceRowsEqualALonePass() throws {
        let g = try Tiny.generator()
        let refs = Tiny.references(2), x = Init_normal([2, 3, 16, 16], key: .init(seed: 3))
        let c = g.conditioning(prompts: prompts, references: refs)
        let full = ReferenceSetMask(foreground: Tensor(shape: [2, 16, 16], scalars: [Float](repeating: 1, count: 512)))
        let twice = { (t: Tensor) in ReferenceSetMask.pairs(references: t, images: t) }
        let y = withNoGrad {
            g.unet.forward(Variable(ReferenceSetMask.pairs(references: refs, images: x)), timesteps: [40, 40, 40, 40],
                           text: Variable(twice(c.text)), imageTokens: Variable(twice(c.image!)), ipScale: 1, setSize: 2, setMask: full)
        }.value
        let alone = g.predictNoise(refs, timestep: 40, text: c.text, imageTokens: c.image, ipScale: 1)
        let per = alone.count / 2
        let referenceRows = Tensor(shape: alone.shape, scalars: Array(y.scalars[0..<per]) + Array(y.scalars[(2 * per)..<(3 * per)]))
        #expect(Tiny.maxAbsDiff(referenceRows, alone) < 1e-5)
        let imageAlone = g.predictNoise(x, timestep: 40, text: c.text, imageTokens: c.image, ipScale: 1)
        #expect(Tiny.maxAbsDiff(ReferenceSetMask.imageRows(y), imageAlone) > 1e-4, "the image rows read the reference")
    }

    /// `referenceTimestep` k: the reference rows of the sets read timestep min(k, t) (ReferenceNet's clean reference at
    /// k = 0), the image rows their own t: the coupled prediction equals a set pass with timesteps [k, t, k, t] and
    /// differs from the matched one; in the sampler k >= every step's t is the matched sampler exactly, and options
    /// without one follow the generator's `trainedReferenceTimestep`.
    @Test func referencesReadTheirOwnTimestep() throws {
        let g = try Tiny.generator()
        let refs = Tiny.references(2), x = Init_normal([2, 3, 16, 16], key: .init(seed: 3))
        let c = g.conditioning(prompts: prompts, references: refs)
        let fg = Tensor(shape: [2, 16, 16], scalars: [Float](repeating: 1, count: 512))
        let twice = { (t: Tensor) in ReferenceSetMask.pairs(references: t, images: t) }
        func set(_ steps: [Int]) -> Tensor {
            ReferenceSetMask.imageRows(withNoGrad {
                g.unet.forward(Variable(ReferenceSetMask.pairs(references: refs, images: x)), timesteps: steps,
                               text: Variable(twice(c.text)), imageTokens: Variable(twice(c.image!)), ipScale: 1, setSize: 2,
                               setMask: ReferenceSetMask(foreground: fg))
            }.value)
        }
        let clean = g.referenceCoupledPair(x, reference: refs, timestep: 40, referenceTimestep: 0, c, ipScale: 1, mode: .conditional,
                                           foreground: fg, bias: 0).cond
        #expect(Tiny.maxAbsDiff(clean, set([0, 40, 0, 40])) < 1e-5)
        #expect(Tiny.maxAbsDiff(clean, set([40, 40, 40, 40])) > 1e-4, "the reference's timestep must reach the U-Net")
        let matched = try Sampler.sample(g, prompts: prompts, references: refs, seeds: [5, 6],
                                         options: SamplingOptions(steps: 3, guidanceScale: 3, referenceAttention: .conditional))
        let capped = try Sampler.sample(g, prompts: prompts, references: refs, seeds: [5, 6],
                                        options: SamplingOptions(steps: 3, guidanceScale: 3, referenceAttention: .conditional,
                                                                 referenceTimestep: g.schedule.trainSteps - 1))
        #expect(Tiny.maxAbsDiff(matched, capped) == 0)
        let cleanSample = try Sampler.sample(g, prompts: prompts, references: refs, seeds: [5, 6],
                                             options: SamplingOptions(steps: 3, guidanceScale: 3, referenceAttention: .conditional,
                                                                      referenceTimestep: 0))
        #expect(Tiny.maxAbsDiff(matched, cleanSample) > 1e-4)
        // Options without a reference timestep read the one the generator's adapter was trained with.
        let trained = Generator(textEncoder: g.textEncoder, imageEncoder: g.imageEncoder, resampler: g.resampler, unet: g.unet,
                                schedule: g.schedule, resolution: g.resolution, trainedReferenceTimestep: 0)
        let asTrained = try Sampler.sample(trained, prompts: prompts, references: refs, seeds: [5, 6],
                                           options: SamplingOptions(steps: 3, guidanceScale: 3, referenceAttention: .conditional))
        #expect(Tiny.maxAbsDiff(asTrained, cleanSample) == 0)
        #expect(throws: GenerationError.self) {
            try SamplingOptions(referenceAttention: .conditional, referenceTimestep: g.schedule.trainSteps).validate(trainSteps: g.schedule.trainSteps, hasReference: false)
        }
    }

    /// A generator sharing another's encoders with a second load's networks (the bench's dpo-train models) keeps that
    /// load's adapter training: it samples exactly like the load itself, with the clean reference it was trained to read
    /// (dropping `trainedReferenceTimestep` made the bench sample every dpo-train model with the matched reference).
    @Test func aGeneratorWithAnotherLoadsNetworksSamplesAsThatLoadWasTrained() throws {
        let g = try Tiny.generator()
        let load = Generator(textEncoder: g.textEncoder, imageEncoder: g.imageEncoder, resampler: g.resampler, unet: g.unet,
                             schedule: g.schedule, resolution: g.resolution, trainedReferenceAttention: .conditional,
                             trainedReferenceTimestep: 0)
        let copy = try Tiny.generator()   // the same weights, loaded a second time, without the record's training
        let derived = copy.withNetworks(of: load)
        #expect(derived.trainedReferenceTimestep == 0 && derived.trainedReferenceAttention == .conditional)
        #expect(derived.unet === load.unet && derived.resampler === load.resampler && derived.textEncoder === copy.textEncoder)
        let refs = Tiny.references(2)
        let opts = SamplingOptions(steps: 3, guidanceScale: 3, referenceAttention: .conditional)
        let want = try Sampler.sample(load, prompts: prompts, references: refs, seeds: [5, 6], options: opts)
        #expect(Tiny.maxAbsDiff(try Sampler.sample(derived, prompts: prompts, references: refs, seeds: [5, 6], options: opts), want) == 0)
        #expect(Tiny.maxAbsDiff(try Sampler.sample(copy, prompts: prompts, references: refs, seeds: [5, 6], options: opts), want) > 1e-4,
                "the matched reference samples differently")
    }

    /// The default foreground is the references' border-colour foreground.
    @Test func defaultForegroundIsTheBorderForeground() throws {
        var im = try Image(width: 16, height: 16, channels: 3, pixels: [UInt8](repeating: 240, count: 16 * 16 * 3))
        for y in 5..<9 { for x in 6..<10 { for ch in 0..<3 { im.pixels[(y * 16 + x) * 3 + ch] = ch == 0 ? 200 : 20 } } }
        let fg = ReferenceAttention.foreground(of: try Sampler.tensor([im], size: 16))
        #expect(fg.shape == [1, 16, 16])
        #expect(fg.scalars.reduce(0, +) == 16)
        #expect(fg.scalars[5 * 16 + 6] == 1 && fg.scalars[0] == 0)
    }

    @Test func invalidRequestsAreNamed() throws {
        let g = try Tiny.generator()
        let opts = SamplingOptions(steps: 2, guidanceScale: 3, referenceAttention: .conditional)
        #expect(throws: GenerationError.self) { try Sampler.sample(g, prompts: prompts, references: nil, seeds: [5, 6], options: opts) }
        #expect(throws: GenerationError.self) {   // K = 2 references per row need [B * K, S, S] foregrounds
            try Sampler.sample(g, prompts: prompts, references: Tiny.references(4), referencesPerRow: 2, seeds: [5, 6], options: opts,
                               referenceForeground: Tensor(zeros: [2, 16, 16]))
        }
        #expect(throws: GenerationError.self) {
            try Sampler.sample(g, prompts: prompts, references: Tiny.references(2), seeds: [5, 6], options: opts,
                               referenceForeground: Tensor(zeros: [2, 8, 8]))
        }
        var mixed = opts
        mixed.imageGuidanceScale = 2
        #expect(throws: GenerationError.self) {
            try Sampler.sample(g, prompts: prompts, references: Tiny.references(2), seeds: [5, 6], options: mixed)
        }
    }

    /// Options written before reference attention existed decode with it off.
    @Test func oldOptionsDecodeWithReferenceAttentionOff() throws {
        var json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(SamplingOptions())) as! [String: Any]
        json.removeValue(forKey: "referenceAttention"); json.removeValue(forKey: "referenceBias")
        let o = try JSONDecoder().decode(SamplingOptions.self, from: JSONSerialization.data(withJSONObject: json))
        #expect(o.referenceAttention == nil && o.referenceBias == 0)
        let on = try JSONDecoder().decode(SamplingOptions.self,
                                          from: JSONEncoder().encode(SamplingOptions(referenceAttention: .both, referenceBias: 1)))
        #expect(on.referenceAttention == .both && on.referenceBias == 1)
    }
}
