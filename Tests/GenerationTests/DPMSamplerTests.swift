import Diffusion
import Foundation
import Testing
import TensorCore
@testable import Generation

/// `SamplingOptions.scheduler = .dpmpp2m` through every path of `Sampler.sample` (the solver itself is
/// checked in DiffusionTests' DPMSolverGoldenTests).
@Suite struct DPMSamplerTests {
    let prompts = ["a mug in the forest", "a ball on the beach"]

    /// The loop re-derived by hand from DPMSolverMultistepScheduler, and different from DDIM's.
    @Test func plainCFGMatchesAHandWrittenLoop() throws {
        let g = try Tiny.generator()
        let refs = Tiny.references(2)
        let opts = SamplingOptions(steps: 4, guidanceScale: 3, scheduler: .dpmpp2m)
        let got = try Sampler.sample(g, prompts: prompts, references: refs, seeds: [5, 6], options: opts)
        var sched = DPMSolverMultistepScheduler(schedule: g.schedule, clipSample: true, spacing: .trailing)
        let c = g.conditioning(prompts: prompts, references: refs)
        var x = g.initialNoise(seeds: [5, 6])
        for t in sched.timesteps(steps: 4) {
            let p = g.guidedPair(x, timestep: t, c, ipScale: 1)
            let e = Guidance.classifierFree(conditional: p.cond, unconditional: p.uncond, scale: 3)
            x = sched.step(epsilon: e, timestep: t, sample: x, steps: 4)
        }
        #expect(Tiny.maxAbsDiff(got, x) < 1e-4)
        var ddim = opts
        ddim.scheduler = .ddim
        let other = try Sampler.sample(g, prompts: prompts, references: refs, seeds: [5, 6], options: ddim)
        #expect(Tiny.maxAbsDiff(got, other) > 1e-3, "the scheduler option must reach the loop")
    }

    /// Decoupled image guidance, reward guidance and adaptive normalisation sample with dpmpp-2m; against
    /// the same model (or s_I = w) each is plain CFG, which adaptive normalisation only reaches when its
    /// reference chain keeps its own solver history.
    @Test func everyGuidancePathRuns() throws {
        let g = try Tiny.generator(), same = try Tiny.generator(), other = try Tiny.generator(seed: 2)
        let refs = Tiny.references(2)
        func sample(_ o: SamplingOptions, reference: Generator? = nil) throws -> Tensor {
            try Sampler.sample(g, reference: reference, prompts: prompts, references: refs, seeds: [1, 2], options: o)
        }
        let plain = try sample(SamplingOptions(steps: 3, guidanceScale: 2, scheduler: .dpmpp2m))
        #expect(plain.scalars.allSatisfy { $0.isFinite })
        let decoupled = try sample(SamplingOptions(steps: 3, guidanceScale: 2, imageGuidanceScale: 2, scheduler: .dpmpp2m))
        #expect(Tiny.maxAbsDiff(plain, decoupled) < 1e-4)
        let stronger = try sample(SamplingOptions(steps: 3, guidanceScale: 2, imageGuidanceScale: 4, scheduler: .dpmpp2m))
        #expect(Tiny.maxAbsDiff(plain, stronger) > 1e-3)
        let reward = try sample(SamplingOptions(steps: 3, guidanceScale: 2, rewardScale: 2.5, scheduler: .dpmpp2m), reference: same)
        #expect(Tiny.maxAbsDiff(plain, reward) < 1e-4)
        let rewardOther = try sample(SamplingOptions(steps: 3, guidanceScale: 2, rewardScale: 2.5, scheduler: .dpmpp2m), reference: other)
        #expect(Tiny.maxAbsDiff(plain, rewardOther) > 1e-3)
        let normed = try sample(SamplingOptions(steps: 3, guidanceScale: 2, adaptiveNormalization: true, scheduler: .dpmpp2m), reference: same)
        #expect(Tiny.maxAbsDiff(plain, normed) < 1e-3)
        let normedOther = try sample(SamplingOptions(steps: 3, guidanceScale: 2, adaptiveNormalization: true, scheduler: .dpmpp2m),
                                     reference: other)
        #expect(normedOther.scalars.allSatisfy { $0.isFinite } && Tiny.maxAbsDiff(plain, normedOther) > 1e-3)
    }

    /// x0 is clipped in pixel space only, with either scheduler; dpmpp-2m samples latents too.
    @Test func clipsInPixelSpaceOnly() throws {
        let g = try Tiny.generator(adapter: false)
        let latent = try Tiny.latentGenerator()
        let opts = SamplingOptions(steps: 3, scheduler: .dpmpp2m)
        #expect((Sampler.scheduler(opts, for: g) as? DPMSolverMultistepScheduler)?.clipSample == true)
        #expect((Sampler.scheduler(opts, for: latent) as? DPMSolverMultistepScheduler)?.clipSample == false)
        #expect((Sampler.scheduler(SamplingOptions(steps: 3), for: latent) as? DDIMScheduler)?.clipSample == false)
        let x = try Sampler.sample(latent, prompts: ["a mug in the forest"], references: nil, seeds: [5], options: opts)
        #expect(x.shape == [1, 3, 16, 16] && x.scalars.allSatisfy { $0.isFinite })
    }

    @Test func optionsValidate() throws {
        let T = Tiny.schedule.trainSteps
        #expect(throws: GenerationError.invalidOption(field: "eta", reason: "0.5 is DDIM-only; dpmpp-2m is deterministic (eta 0, or scheduler ddim)")) {
            try SamplingOptions(steps: 3, eta: 0.5, scheduler: .dpmpp2m).validate(trainSteps: T, hasReference: false)
        }
        try SamplingOptions(steps: 3, eta: 0.5).validate(trainSteps: T, hasReference: false)
        #expect(throws: GenerationError.invalidOption(field: "steps", reason: "100: dpmpp-2m takes at most 99 steps (T - 1)")) {
            try SamplingOptions(steps: T, scheduler: .dpmpp2m).validate(trainSteps: T, hasReference: false)
        }
        try SamplingOptions(steps: T - 1, scheduler: .dpmpp2m).validate(trainSteps: T, hasReference: false)
        let g = try Tiny.generator(adapter: false)
        #expect(throws: GenerationError.self) {
            _ = try Sampler.sample(g, prompts: ["a mug"], references: nil, seeds: [1], options: SamplingOptions(steps: 2, eta: 1, scheduler: .dpmpp2m))
        }
    }

    /// Options encoded before the scheduler existed decode as DDIM; the new field round-trips by its config name.
    @Test func optionsDecodeWithoutTheSchedulerField() throws {
        let old = #"{"steps":20,"guidanceScale":2,"ipScale":1,"eta":0,"spacing":"trailing","adaptiveNormalization":false}"#
        let decoded = try JSONDecoder().decode(SamplingOptions.self, from: Data(old.utf8))
        #expect(decoded == SamplingOptions(steps: 20, guidanceScale: 2))
        let dpm = SamplingOptions(steps: 20, guidanceScale: 2, imageGuidanceScale: 3, scheduler: .dpmpp2m)
        let data = try JSONEncoder().encode(dpm)
        #expect(String(decoding: data, as: UTF8.self).contains(#""scheduler":"dpmpp-2m""#))
        #expect(try JSONDecoder().decode(SamplingOptions.self, from: data) == dpm)
        #expect(SamplingOptions(steps: 20, scheduler: .dpmpp2m).schedulerDescription == "DPM-Solver++ (2M) 20 steps")
        #expect(SamplingOptions(steps: 25).schedulerDescription == "DDIM 25 steps, eta 0.0")
    }
}
