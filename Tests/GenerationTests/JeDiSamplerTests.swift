import Autograd
import Checkpoint
import Foundation
import Imaging
import NN
import Pretrained
import Diffusion
import Manifest
import Models
import Random
import TensorCore
import Testing
import TestSupport
@testable import Generation

/// JeDi sampling (Sources/Generation/JeDiSampler.swift, JeDiGuidance.swift) on a tiny random JeDi generator: the base
/// tiny U-Net widened to the inpainting input (`JeDiUNet.fromBase`) with its mask and clean-image weights then
/// drawn at random (a freshly widened U-Net ignores the references, which would hide wiring mistakes).
struct JeDiSamplerTests {
    static func generator() throws -> Generator {
        let base = try Tiny.generator(adapter: false)
        let unet = try JeDiUNet.fromBase(base.unet)
        let w = unet.convIn.weight.value, noise = Init_normal(w.shape, key: RNGKey(seed: 31))
        var v = w
        for o in 0..<w.shape[0] {
            for i in [0, 4, 5, 6] {
                for j in 0..<9 { v.scalars[(o * 7 + i) * 9 + j] = 0.2 * noise.scalars[(o * 7 + i) * 9 + j] }
            }
        }
        unet.convIn.weight.value = v
        return Generator(textEncoder: base.textEncoder, imageEncoder: nil, resampler: nil, unet: unet, schedule: Tiny.schedule,
                         resolution: 16)
    }

    static func set(references k: Int, targets n: Int = 1) -> JeDiSet {
        JeDiSet(references: Tiny.references(k), referencePrompts: Array(repeating: "a photo of a red mug", count: k),
                prompts: Array(["a red mug on a beach", "a red mug in the snow"].prefix(n)))
    }

    static let options = SamplingOptions(steps: 4, guidanceScale: 3)

    /// Any number of references: with K = 1, 2, 3 (and two targets) the set comes back with the references
    /// in rows 0 ..< K bit for bit (the replacement trick's last replacement), finite images after them (not bounded by 1:
    /// DDIM ends at abar_0 < 1, a step short of x0, as `Sampler` does).
    @Test(arguments: [(1, 1), (2, 1), (3, 1), (1, 2)])
    func knownMembersEndAsTheReferences(k: Int, n: Int) throws {
        let g = try Self.generator(), s = Self.set(references: k, targets: n)
        let out = try JeDiSampler.sample(g, set: s, seed: 7, options: Self.options)
        #expect(out.shape == [k + n, 3, 16, 16])
        let per = 3 * 16 * 16
        let knownOK = Array(out.scalars[0..<(k * per)]) == s.references.scalars
        #expect(knownOK, "rows 0 ..< \(k) must be the references")
        let generated = out.scalars[(k * per)...]
        #expect(generated.allSatisfy { $0.isFinite })
        #expect(generated.contains { abs($0) > 1e-3 })
    }

    /// The replacement trick at every step: the known members the U-Net reads are sqrt(abar_t) x0 + sqrt(1 - abar_t) z
    /// with z drawn for that step (fresh: z differs between steps), the unknown ones are the chain's own state, not the
    /// references (atol 1e-6, rtol 1e-5: the same float32 formula, written out here).
    @Test func knownMembersAreForwardDiffusedReferencesAtEveryStep() throws {
        let g = try Self.generator(), s = Self.set(references: 2)
        let per = 3 * 16 * 16, root = RNGKey(seed: 7).fold(in: "jedi")
        var seen: [(Int, Int, Tensor)] = []
        _ = try JeDiSampler.sample(g, set: s, seed: 7, options: Self.options, guidance: JeDiGuidance(), observe: { seen.append(($0, $1, $2)) })
        #expect(seen.map(\.1) == Sampler.scheduler(Self.options, for: g).timesteps(steps: 4))
        var noises: [[Float]] = []
        for (i, t, x) in seen {
            let z = Init_normal([3, 3, 16, 16], key: root.fold(in: "q").fold(in: UInt64(i)))
            let a = Float(g.schedule.alphaBar(t).squareRoot()), b = Float((1 - g.schedule.alphaBar(t)).squareRoot())
            let want = (0..<(2 * per)).map { a * s.references.scalars[$0] + b * z.scalars[$0] }
            expectClose(Array(x.scalars[0..<(2 * per)]), want, "step \(i) (t = \(t)): known members")
            noises.append(Array(z.scalars[0..<(2 * per)]))
            let target = Array(x.scalars[(2 * per)...])
            #expect(target.contains { abs($0) > 0.1 }, "step \(i): the target is the chain's state")
        }
        #expect(Set(noises.map { $0.prefix(8).description }).count == noises.count, "z must be fresh at every step")
    }

    /// The references condition the generated image (through the coupled attention and the inpainting input),
    /// the seed fixes it: the same request twice is bit-identical, other references give another image.
    @Test func referencesAndSeedDetermineTheSample() throws {
        let g = try Self.generator()
        let a = try JeDiSampler.sample(g, set: Self.set(references: 2), seed: 7, options: Self.options)
        let b = try JeDiSampler.sample(g, set: Self.set(references: 2), seed: 7, options: Self.options)
        #expect(Tiny.maxAbsDiff(a, b) == 0)
        var other = Self.set(references: 2)
        other.references = Tiny.references(2, seed: 10)
        let c = try JeDiSampler.sample(g, set: other, seed: 7, options: Self.options)
        let per = 3 * 16 * 16
        #expect(Tiny.maxAbsDiff(Tensor(shape: [1, 3, 16, 16], scalars: Array(a.scalars[(2 * per)...])),
                                Tensor(shape: [1, 3, 16, 16], scalars: Array(c.scalars[(2 * per)...]))) > 1e-3)
    }

    /// The branches of one step: full = (mask 0 and the clean image on references, mask 1 and zeros on targets; the
    /// texts), the joint null = (mask 1 and zeros everywhere; null texts), and the partial branch of each flexible strategy.
    @Test func branchesCarryTheJointNull() throws {
        let k = 2, m = 3, plane = 16 * 16
        let x = Init_normal([m, 3, 16, 16], key: RNGKey(seed: 1))
        let clean = stack([Tiny.references(k), Tensor(zeros: [1, 3, 16, 16])])
        let text = Init_normal([m, 4, 16], key: RNGKey(seed: 2)), nullText = Init_normal([m, 4, 16], key: RNGKey(seed: 3))
        let known = [true, true, false]
        func member(_ input: Tensor, _ row: Int) -> (mask: [Float], noisy: [Float], clean: [Float]) {
            let base = row * 7 * plane
            return (Array(input.scalars[base..<(base + plane)]), Array(input.scalars[(base + plane)..<(base + 4 * plane)]),
                    Array(input.scalars[(base + 4 * plane)..<(base + 7 * plane)]))
        }
        let zeros = [Float](repeating: 0, count: 3 * plane), ones = [Float](repeating: 1, count: plane)
        for strategy in JeDiGuidance.Strategy.allCases {
            let guidance = JeDiGuidance(strategy: strategy)
            let (input, texts) = JeDiSampler.branchInputs(x, clean: clean, known: known, text: text, nullText: nullText, guidance: guidance)
            #expect(input.shape == [guidance.branches * m, 7, 16, 16] && texts.shape == [guidance.branches * m, 4, 16])
            // Which branches keep the references and the texts: full, [partial], null.
            let keepsImage: [Bool] = [.joint: [true, false], .textFirst: [true, false, false], .imageFirst: [true, true, false]][strategy]!
            let keepsText: [Bool] = [.joint: [true, false], .textFirst: [true, true, false], .imageFirst: [true, false, false]][strategy]!
            for b in 0..<guidance.branches {
                for r in 0..<m {
                    let p = member(input, b * m + r)
                    // Booleans first, so that a failure names the part instead of printing 768 numbers.
                    let isKnown = keepsImage[b] && known[r]
                    let noisyOK = p.noisy == Array(x.scalars[(r * 3 * plane)..<((r + 1) * 3 * plane)])
                    let maskOK = p.mask == (isKnown ? [Float](repeating: 0, count: plane) : ones)
                    let cleanOK = p.clean == (isKnown ? Array(clean.scalars[(r * 3 * plane)..<((r + 1) * 3 * plane)]) : zeros)
                    #expect(noisyOK, "\(strategy) branch \(b) member \(r): x_t")
                    #expect(maskOK, "\(strategy) branch \(b) member \(r): mask, want \(isKnown ? 0 : 1)")
                    #expect(cleanOK, "\(strategy) branch \(b) member \(r): clean image, want \(isKnown ? "the reference" : "zeros")")
                }
                let want = keepsText[b] ? text : nullText
                let textOK = Array(texts.scalars[(b * want.count)..<((b + 1) * want.count)]) == want.scalars
                #expect(textOK, "\(strategy) branch \(b): want the \(keepsText[b] ? "prompts" : "null texts")")
            }
        }
    }

    /// The guidance formulas on random predictions (atol 1e-6, rtol 1e-5): joint is CFG against the joint null;
    /// text first and image first with scales s_T = s, s_I = rho s; rho = 1 makes both the joint form.
    @Test func guidanceFormulas() {
        let full = Init_normal([2, 3, 4, 4], key: RNGKey(seed: 1)), partial = Init_normal([2, 3, 4, 4], key: RNGKey(seed: 2))
        let null = Init_normal([2, 3, 4, 4], key: RNGKey(seed: 3))
        let s: Float = 4, rho: Float = 0.5
        func explicit(_ f: (Float, Float, Float) -> Float) -> [Float] {
            (0..<full.count).map { f(full.scalars[$0], partial.scalars[$0], null.scalars[$0]) }
        }
        expectClose(JeDiGuidance().combine(full: full, partial: nil, null: null, scale: s).scalars, explicit { f, _, n in n + s * (f - n) })
        expectClose(JeDiGuidance(strategy: .textFirst, imageToTextRatio: rho).combine(full: full, partial: partial, null: null, scale: s).scalars,
                    explicit { f, p, n in n + s * (p - n) + rho * s * (f - p) }, "text first")
        expectClose(JeDiGuidance(strategy: .imageFirst, imageToTextRatio: rho).combine(full: full, partial: partial, null: null, scale: s).scalars,
                    explicit { f, p, n in n + rho * s * (p - n) + s * (f - p) }, "image first")
        let joint = JeDiGuidance().combine(full: full, partial: nil, null: null, scale: s)
        for strategy in [JeDiGuidance.Strategy.textFirst, .imageFirst] {
            expectClose(JeDiGuidance(strategy: strategy).combine(full: full, partial: partial, null: null, scale: s), joint,
                        atol: 1e-5, "\(strategy) at ratio 1 vs joint")
        }
    }

    /// Through the sampler: both flexible strategies at ratio 1 sample what joint guidance samples (their partial
    /// branch cancels; atol 1e-4 over 4 steps of float32 sums), and another ratio samples something else.
    @Test func flexibleGuidanceAtRatioOneIsJoint() throws {
        let g = try Self.generator(), s = Self.set(references: 1)
        let joint = try JeDiSampler.sample(g, set: s, seed: 3, options: Self.options)
        for strategy in [JeDiGuidance.Strategy.textFirst, .imageFirst] {
            let flexible = try JeDiSampler.sample(g, set: s, seed: 3, options: Self.options, guidance: JeDiGuidance(strategy: strategy))
            expectClose(flexible, joint, atol: 1e-4, rtol: 0, "\(strategy) ratio 1")
            let other = try JeDiSampler.sample(g, set: s, seed: 3, options: Self.options,
                                               guidance: JeDiGuidance(strategy: strategy, imageToTextRatio: 2))
            #expect(Tiny.maxAbsDiff(other, joint) > 1e-3, "\(strategy) ratio 2 must differ")
        }
    }

    /// A batch of sets is each set sampled alone: three sets with their own references, prompts and seeds in one
    /// U-Net pass per step give the images each gives alone (max abs diff <= 1e-5 on the [-1, 1] sets: the same
    /// per-row arithmetic, only the batched kernels' float32 summation order may differ), for DDIM with eta 0, DDIM
    /// with eta > 0 (per-set step noise) and DPM-Solver++ (2M) (its history batched with the sets).
    @Test(arguments: [SamplingOptions(steps: 4, guidanceScale: 3), SamplingOptions(steps: 4, guidanceScale: 3, eta: 0.7),
                      SamplingOptions(steps: 4, guidanceScale: 3, scheduler: .dpmpp2m)])
    func aBatchOfSetsIsEachSetAlone(options: SamplingOptions) throws {
        let g = try Self.generator()
        let prompts = ["a red mug on a beach", "a red mug in the snow", "a red mug in the forest"]
        let sets = prompts.enumerated().map { i, p in
            JeDiSet(references: Tiny.references(2, seed: 20 + UInt64(i)), referencePrompts: ["a photo of a red mug", "a red mug"],
                    prompts: [p])
        }
        let seeds: [UInt64] = [7, 8, 19]
        let batched = try JeDiSampler.sample(g, sets: sets, seeds: seeds, options: options)
        #expect(batched.count == 3 && batched.allSatisfy { $0.shape == [3, 3, 16, 16] })
        let alone = try zip(sets, seeds).map { try JeDiSampler.sample(g, set: $0, seed: $1, options: options) }
        for i in 0..<3 {
            #expect(Tiny.maxAbsDiff(batched[i], alone[i]) <= 1e-5, "\(options.scheduler) eta \(options.eta): set \(i)")
        }
        #expect(Tiny.maxAbsDiff(alone[0], alone[1]) > 1e-3, "the sets differ, so a mix-up would show")
    }

    /// Batches the sampler refuses, naming the field: sets of unequal size, a seed count that is not the set count.
    @Test func unequalSetsAreRefused() throws {
        let g = try Self.generator()
        #expect { try JeDiSampler.sample(g, sets: [Self.set(references: 1), Self.set(references: 2)], seeds: [1, 2], options: Self.options) }
            throws: { "\($0)".hasPrefix("sampling input sets: set 1 has 2 references of 3 members, set 0 1 of 2") }
        #expect { try JeDiSampler.sample(g, sets: [Self.set(references: 1, targets: 2), Self.set(references: 2)], seeds: [1, 2],
                                         options: Self.options) }
            throws: { "\($0)".hasPrefix("sampling input sets: set 1 has 2 references of 3 members, set 0 1 of 3") }
        #expect { try JeDiSampler.sample(g, sets: [Self.set(references: 1), Self.set(references: 1)], seeds: [1], options: Self.options) }
            throws: { "\($0)".hasPrefix("sampling input seeds:") }
    }

    /// Requests the sampler refuses, each naming the field.
    @Test func refusals() throws {
        let g = try Self.generator(), s = Self.set(references: 1)
        #expect(throws: GenerationError.self) {
            try JeDiSampler.sample(Tiny.generator(adapter: false), set: s, seed: 1, options: Self.options)   // not a JeDi U-Net
        }
        #expect(throws: GenerationError.invalidOption(field: "imageToTextRatio", reason:
            "2.0 needs a flexible strategy (text-first or image-first); joint guidance has one scale")) {
            try JeDiSampler.sample(g, set: s, seed: 1, options: Self.options, guidance: JeDiGuidance(imageToTextRatio: 2))
        }
        var o = Self.options
        o.imageGuidanceScale = 2
        #expect(throws: GenerationError.self) { try JeDiSampler.sample(g, set: s, seed: 1, options: o) }
        #expect(throws: GenerationError.self) {
            try JeDiSampler.sample(g, set: JeDiSet(references: Tiny.references(2), referencePrompts: ["a"], prompts: ["b"]), seed: 1,
                                   options: Self.options)
        }
        #expect(throws: GenerationError.self) {
            try JeDiSampler.sample(g, set: JeDiSet(references: Tensor(zeros: [0, 3, 16, 16]), referencePrompts: [], prompts: ["b"]),
                                   seed: 1, options: Self.options)
        }
    }
}

/// JeDi initialised from the shipped base model (data/checkpoints: unet.safetensors + unet.json and its text tower).
struct JeDiShippedBaseTests {
    static let checkpoints = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("data/checkpoints")

    /// The widened U-Net predicts what the shipped base predicts on x_t (atol 1e-5, rtol 1e-4 on outputs of O(1)), and one
    /// short JeDi sampling runs on it with two references, returning them bit for bit.
    @Test func initialisationFromTheShippedBase() throws {
        let base = try Generator.load(directory: Self.checkpoints, adapter: false)
        let jedi = try Generator.loadJeDiInitialisation(directory: Self.checkpoints)
        let s = jedi.resolution
        #expect(jedi.unet.config.inChannels == 7 && jedi.unet.config.blockOutChannels == base.unet.config.blockOutChannels)
        let noisy = Init_normal([2, 3, s, s], key: RNGKey(seed: 1)), clean = Init_normal([2, 3, s, s], key: RNGKey(seed: 2))
        let text = base.textStates(["a photo of a red mug", "a red mug on a beach"])
        let want = base.predictNoise(noisy, timestep: 600, text: text, imageTokens: nil, ipScale: 0)
        let got = jedi.predictNoise(JeDiUNet.input(noisy: noisy, clean: clean, known: [true, false]), timestep: 600, text: text,
                                    imageTokens: nil, ipScale: 0)
        expectClose(got, want, atol: 1e-5, rtol: 1e-4, "JeDi initialisation vs shipped base")
        var refs = Init_normal([2, 3, s, s], key: RNGKey(seed: 3))
        for i in refs.scalars.indices { refs.scalars[i] = max(-1, min(1, 0.5 * refs.scalars[i])) }
        let set = JeDiSet(references: refs, referencePrompts: ["a photo of a red mug", "a photo of a red mug"], prompts: ["a red mug on a beach"])
        let out = try JeDiSampler.sample(jedi, set: set, seed: 1, options: SamplingOptions(steps: 2))
        let known = Array(out.scalars[0..<refs.count]) == refs.scalars
        #expect(out.shape == [3, 3, s, s] && known)
    }
    /// A JeDi checkpoint directory (issue 17 item 4; what `sample --model jedi` reads): `jedi.safetensors` + `jedi.json`
    /// beside `clip` and the base's text tower. The loaded generator samples exactly as the one that was saved (the
    /// shipped base widened, its mask and reference channels drawn at random so the references matter), and a `jedi`
    /// file holding a plain U-Net (3 input channels) is refused naming the file.
    @Test func aTrainedJeDiLoadsFromItsDirectoryAndSamplesAsSaved() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("jedi-dir-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for name in ["clip.safetensors", "clip.json", "unet-text-model.safetensors"] {
            try FileManager.default.copyItem(at: Self.checkpoints.appendingPathComponent(name), to: dir.appendingPathComponent(name))
        }
        let saved = try Generator.loadJeDiInitialisation(directory: Self.checkpoints)
        let w = saved.unet.convIn.weight.value, noise = Init_normal(w.shape, key: RNGKey(seed: 41))
        var v = w
        for (i, x) in noise.scalars.enumerated() where [0, 4, 5, 6].contains((i / 9) % 7) { v.scalars[i] = 0.1 * x }
        saved.unet.convIn.weight.value = v
        let unetRecord = try PretrainRecord.read(Self.checkpoints.appendingPathComponent("unet.json"))
        func write(_ unet: UNet2DConditionModel) throws {
            let data = SafeTensors.encode(unet.stateDict())
            try data.write(to: dir.appendingPathComponent("jedi.safetensors"))
            var rec = unetRecord
            rec.stage = "pretrain-jedi"; rec.weightsFile = "jedi.safetensors"; rec.weightsSHA256 = SHA256.hex(data); rec.unet = unet.config
            try rec.encoded().write(to: dir.appendingPathComponent("jedi.json"))
        }
        try write(saved.unet)
        let loaded = try Generator.loadJeDi(directory: dir)
        let refs = [try Image(width: 32, height: 32, channels: 3, pixels: (0..<(32 * 32 * 3)).map { UInt8(($0 * 37) % 251) })]
        let opts = SamplingOptions(steps: 3, guidanceScale: 2)
        let got = try loaded.generateJeDi(references: refs, referencePrompts: ["a photo of a red mug"], prompts: ["a red mug on a beach"],
                                          seed: 5, options: opts)
        let want = try saved.generateJeDi(references: refs, referencePrompts: ["a photo of a red mug"], prompts: ["a red mug on a beach"],
                                          seed: 5, options: opts)
        #expect(got.count == 1 && got == want)
        let other = try saved.generateJeDi(references: [try Image(width: 32, height: 32, channels: 3, pixels: Array(repeating: 200, count: 32 * 32 * 3))],
                                           referencePrompts: ["a photo of a red mug"], prompts: ["a red mug on a beach"], seed: 5, options: opts)
        #expect(other != want, "the reference reaches the generated member")
        #expect(throws: GenerationError.self) {
            _ = try saved.generateJeDi(references: refs, referencePrompts: [], prompts: ["a red mug on a beach"], seed: 5, options: opts)
        }
        try write(try Generator.load(directory: Self.checkpoints, adapter: false).unet)
        #expect { _ = try Generator.loadJeDi(directory: dir) } throws: { "\($0)".contains("jedi.safetensors") }
    }
}
