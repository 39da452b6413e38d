import Autograd
import Diffusion
import Foundation
import Models
import Testing
import TensorCore
@testable import Generation

/// The references' keys made once (Sources/Models/ReferenceKeys.swift): the keyed pair equals the coupled pair's image
/// rows (1e-5: the same sums grouped differently), in both modes, with one and two references per image, a partial
/// foreground and a bias; the per-key mask is the image row of the set mask; and the sampler, reading at a fixed
/// timestep, samples as the coupled loop does with the references diffused once.
@Suite struct ReferenceKeysTests {
    let prompts = ["a mug in the forest", "a ball on the beach"]

    /// Foreground of n references: reference i's left (i + 1) * 3 columns.
    static func foreground(_ n: Int) -> Tensor {
        Tensor(shape: [n, 16, 16], scalars: (0..<n).flatMap { i in (0..<256).map { p in p % 16 < (i + 1) * 3 ? Float(1) : 0 } })
    }

    @Test(arguments: [(ReferenceAttention.conditional, 1), (.both, 1), (.conditional, 2), (.both, 2)])
    func theKeyedPairIsTheCoupledPairsImageRows(mode: ReferenceAttention, perRow k: Int) throws {
        let g = try Tiny.generator()
        let refs = Tiny.references(2 * k), x = Init_normal([2, 3, 16, 16], key: .init(seed: 3))
        let c = g.conditioning(prompts: prompts, references: refs, perRow: k)
        let fg = Self.foreground(2 * k)
        let keys = g.referenceKeys(refs, referenceTimestep: 0, c, ipScale: 1, mode: mode, foreground: fg, bias: 0.5)
        #expect(keys.layers == g.unet.namedParameters().filter { $0.0.hasSuffix("attn1.to_k.weight") }.count && keys.layers > 0,
                "every self-attention of the U-Net recorded its references' keys")
        for t in [40, 99] {
            let coupled = g.referenceCoupledPair(x, reference: refs, timestep: t, referenceTimestep: 0, c, ipScale: 1, mode: mode,
                                                 foreground: fg, bias: 0.5)
            let keyed = g.guidedPair(x, timestep: t, c, ipScale: 1, referenceKeys: keys)
            #expect(Tiny.maxAbsDiff(keyed.cond, coupled.cond) < 1e-5)
            #expect(Tiny.maxAbsDiff(keyed.uncond, coupled.uncond) < 1e-5)
        }
        let other = g.referenceCoupledPair(x, reference: refs, timestep: 40, referenceTimestep: 0, c, ipScale: 1, mode: mode,
                                           foreground: fg, bias: 0)
        #expect(Tiny.maxAbsDiff(g.guidedPair(x, timestep: 40, c, ipScale: 1, referenceKeys: keys).cond, other.cond) > 1e-5,
                "the recorded bias reaches the reading pass")
    }

    @Test func theKeyBiasIsTheImageRowOfTheSetMask() {
        let m = ReferenceSetMask(foreground: Self.foreground(4), bias: 0.25, referencesPerSet: 2)
        for (h, w) in [(16, 16), (8, 8), (4, 4)] {
            let full = m.additive(height: h, width: w), keys = m.keyBias(height: h, width: w)
            let n = 3 * h * w
            #expect(keys.shape == [2, 1, 1, n])
            for s in 0..<2 {
                let row = Array(keys.scalars[(s * n)..<((s + 1) * n)])
                for q in (2 * h * w)..<n { #expect(Array(full.scalars[((s * n + q) * n)..<((s * n + q + 1) * n)]) == row) }
            }
        }
    }

    /// The sampler at reference timestep 0 equals the coupled loop written out with the references diffused once (step
    /// 0's draw): CFG over `referenceCoupledPair`, the DDIM step.
    @Test func aFixedReadSamplesAsTheCoupledLoopWithTheReferencesDiffusedOnce() throws {
        let g = try Tiny.generator()
        let refs = Tiny.references(2), seeds: [UInt64] = [5, 6]
        let opts = SamplingOptions(steps: 4, guidanceScale: 3, referenceAttention: .conditional, referenceTimestep: 0)
        let sampled = try Sampler.sample(g, prompts: prompts, references: refs, seeds: seeds, options: opts)
        let c = g.conditioning(prompts: prompts, references: refs)
        let fg = ReferenceAttention.foreground(of: refs)
        let r0 = g.schedule.addNoise(refs, noise: Sampler.referenceNoise(seeds: seeds, step: 0, like: refs), timesteps: [0, 0])
        var scheduler = Sampler.scheduler(opts, for: g)
        var x = g.initialNoise(seeds: seeds)
        for t in scheduler.timesteps(steps: 4) {
            let p = g.referenceCoupledPair(x, reference: r0, timestep: t, referenceTimestep: 0, c, ipScale: 1, mode: .conditional,
                                           foreground: fg, bias: 0)
            x = scheduler.step(epsilon: Guidance.classifierFree(conditional: p.cond, unconditional: p.uncond, scale: 3), timestep: t,
                               sample: x, steps: 4, eta: 0, noise: nil)
        }
        #expect(Tiny.maxAbsDiff(sampled, g.imageSpace(x)) < 1e-4)
    }
}
