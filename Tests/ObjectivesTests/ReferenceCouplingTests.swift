import Autograd
import Diffusion
import Models
import Optim
import Random
import Testing
import TensorCore
import TestSupport
@testable import Objectives

/// Reference attention in preference training (`ReferenceCoupling`): the policy's coupled forward, condition
/// dropout and the noise draws, and a whole step, on the xs U-Net.
@Suite struct ReferenceCouplingTests {
    static func coupling(pairs: Int = 2, foreground: Float, seed: UInt64 = 90) -> ReferenceCoupling {
        ReferenceCoupling(references: normalTensor([pairs, 3, 8, 8], seed: seed),
                          foreground: Tensor(shape: [pairs, 8, 8], scalars: (0..<(pairs * 64)).map { $0 % 64 < 40 ? foreground : 0 }))
    }

    static func maxDifference(_ a: Tensor, _ b: Tensor) -> Float { zip(a.scalars, b.scalars).map { abs($0 - $1) }.max() ?? 0 }

    /// A tiny policy and one draw of two pairs stacked as two rows each: the rows' timesteps, noisy images, text and
    /// image features, and the draw (its reference noise).
    static func rows() -> (policy: AdapterPolicy, t: [Int], xt: Tensor, text: Tensor, image: Tensor, draw: PairNoise) {
        let policy = tinyPolicy()
        let batch = tinyBatch()
        var rng = RandomStream(seed: 4)
        let draw = PairNoise.draw(pairs: 2, imageShape: [3, 8, 8], trainSteps: 1000, withStepNoise: false, withReferenceNoise: true, rng: &rng)
        let (t, _) = draw.stacked(rows: 2)
        let xt = draw.noisy(batch.stackedImages(rows: 2), rows: 2, schedule: NoiseSchedule())
        return (policy, t, xt, PreferenceBatch.repeatRows(batch.text, rows: 2), PreferenceBatch.repeatRows(batch.imageFeatures, rows: 2), draw)
    }

    /// With an empty foreground an image reads only its own keys: the coupled forward equals the plain one (the
    /// reference rows are computed and discarded); with a foreground it reads the reference and differs.
    @Test func anEmptyForegroundGivesThePlainPrediction() {
        let (policy, t, xt, text, image, draw) = Self.rows()
        let plain = withNoGrad { policy.predict(xt, timesteps: t, text: text, imageFeatures: image).value }
        let empty = Self.coupling(foreground: 0).diffused(rows: 2, timesteps: t, noise: draw.referenceNoise!, schedule: NoiseSchedule())
        let coupledEmpty = withNoGrad { policy.predict(xt, timesteps: t, text: text, imageFeatures: image, coupled: empty).value }
        #expect(coupledEmpty.shape == plain.shape)
        #expect(Self.maxDifference(coupledEmpty, plain) < 1e-4, "empty foreground: \(Self.maxDifference(coupledEmpty, plain))")
        let full = Self.coupling(foreground: 1).diffused(rows: 2, timesteps: t, noise: draw.referenceNoise!, schedule: NoiseSchedule())
        let coupled = withNoGrad { policy.predict(xt, timesteps: t, text: text, imageFeatures: image, coupled: full).value }
        #expect(Self.maxDifference(coupled, plain) > 1e-3, "a read reference must change the prediction")
        // Each row's reference is diffused at the row's own timestep with its pair's noise.
        #expect(full.references.shape == [4, 3, 8, 8])
        #expect(Kernels.slice(full.references, axis: 0, start: 0, length: 1) == Kernels.slice(full.references, axis: 0, start: 2, length: 1))
    }

    /// `referenceTimestep` k (an adapter trained with `reference_timestep`): each reference row is diffused to and
    /// read at min(k, t), its image row at t; the policy's coupled prediction equals the set forward with those
    /// timesteps, and k = 0 differs from the matched coupling. The objective diffuses the references to the policy's
    /// timesteps: a k above every t gives the matched loss exactly, k = 0 another.
    @Test func referencesAreReadAtTheirOwnTimestep() throws {
        let (policy, t, xt, text, image, draw) = Self.rows()
        let coupling = Self.coupling(foreground: 1)
        let matched = coupling.diffused(rows: 2, timesteps: t, noise: draw.referenceNoise!, schedule: NoiseSchedule())
        let clean = coupling.diffused(rows: 2, timesteps: t.map { ReferenceSetMask.readTimestep($0, cap: 0) },
                                      noise: draw.referenceNoise!, schedule: NoiseSchedule())
        #expect(matched.timesteps == t && clean.timesteps == t.map { _ in 0 })
        #expect(Self.maxDifference(clean.references, clean.clean) < 0.1, "at t = 0 the reference is all but clean")
        let y = withNoGrad { policy.predict(xt, timesteps: t, text: text, imageFeatures: image, coupled: clean).value }
        let twice = { (a: Tensor) in ReferenceSetMask.pairs(references: a, images: a) }
        let direct = withNoGrad {
            ReferenceSetMask.imageRows(policy.unet.forward(Variable(ReferenceSetMask.pairs(references: clean.references, images: xt)),
                                                           timesteps: t.flatMap { [0, $0] }, text: Variable(twice(text)),
                                                           imageTokens: policy.resampler.forward(Variable(twice(image))), ipScale: policy.ipScale,
                                                           setSize: 2, setMask: clean.mask))
        }.value
        #expect(Self.maxDifference(y, direct) < 1e-5)
        let ym = withNoGrad { policy.predict(xt, timesteps: t, text: text, imageFeatures: image, coupled: matched).value }
        #expect(Self.maxDifference(y, ym) > 1e-4)
        func loss(_ k: Int?) throws -> Float {
            var batch = tinyBatch()
            batch.coupling = coupling
            var rng = RandomStream(seed: 12)
            let draw = PairNoise.draw(pairs: 2, imageShape: [3, 8, 8], trainSteps: 1000, withStepNoise: false, withReferenceNoise: true, rng: &rng)
            return try PreferenceObjective(kind: .dm).loss(policy: tinyPolicy(referenceTimestep: k), batch: batch, draw: draw).loss.value.scalars[0]
        }
        #expect(try loss(nil) == loss(999))
        #expect(try abs(loss(nil) - loss(0)) > 1e-6)
    }

    /// A pair that drops its image reads no reference key (the sampler's unconditional branch); the others still do.
    @Test func droppingTheImageEmptiesThatPairsForeground() {
        var batch = tinyBatch(pairs: 3)
        batch.coupling = Self.coupling(pairs: 3, foreground: 1)
        var rng = RandomStream(seed: 1)
        let (out, dropped) = ConditionDropout(text: 0, image: 1, both: 0).apply(batch, nullText: Tensor(zeros: [1, 3, 128]),
                                                                                nullImage: Tensor(zeros: [1, 5, 32]), rng: &rng)
        #expect(dropped == 3 && out.coupling!.foreground!.scalars.allSatisfy { $0 == 0 } && out.coupling!.dropped == [true, true, true])
        var one = Self.coupling(pairs: 3, foreground: 1)
        one.dropReference(pair: 1)
        let f = one.foreground!.scalars
        #expect(f[0..<64].contains(1) && !f[64..<128].contains(1) && f[128..<192].contains(1))
    }

    /// Reference noise is drawn after eps (and z), so a batch without reference attention draws what it always did.
    @Test func referenceNoiseComesLastInTheStream() {
        var a = RandomStream(seed: 6), b = RandomStream(seed: 6)
        let plain = PairNoise.draw(pairs: 2, imageShape: [3, 4, 4], trainSteps: 1000, withStepNoise: true, rng: &a)
        let coupled = PairNoise.draw(pairs: 2, imageShape: [3, 4, 4], trainSteps: 1000, withStepNoise: true, withReferenceNoise: true, rng: &b)
        #expect(plain.timesteps == coupled.timesteps && plain.noise == coupled.noise && plain.stepNoise == coupled.stepNoise)
        #expect(plain.referenceNoise == nil && coupled.referenceNoise?.shape == [2, 3, 4, 4] && coupled.referenceNoise != coupled.noise)
    }

    @Test func aBadCouplingIsRefusedNamingTheField() {
        var batch = tinyBatch()
        batch.coupling = ReferenceCoupling(references: normalTensor([2, 3, 4, 4], seed: 1), foreground: Tensor(zeros: [2, 8, 8]))
        #expect { try batch.validate(for: .diffusionDPO) } throws: { "\($0)".contains("coupling.references") }
        batch.coupling = ReferenceCoupling(references: normalTensor([2, 3, 8, 8], seed: 1), foreground: Tensor(zeros: [2, 6, 6]))
        #expect { try batch.validate(for: .diffusionDPO) } throws: { "\($0)".contains("coupling.foreground") }
    }

    /// A whole coupled step trains the adapter with a finite loss, and differs from the uncoupled step.
    @Test(arguments: [LossKind.diffusionDPO, .patchdpo])
    func aCoupledStepTrainsTheAdapter(kind: LossKind) throws {
        func step(coupled: Bool) throws -> (StepMetrics, [String: [UInt32]]) {
            let policy = tinyPolicy()
            perturbAdapter(policy)
            var batch = tinyBatch()
            if coupled { batch.coupling = Self.coupling(foreground: 1) }
            var rng = RandomStream(seed: 12)
            var opt = AdamW(learningRate: 1e-3, weightDecay: 0)
            let m = try PreferenceObjective(kind: kind).step(policy: policy, batch: batch, rng: &rng, optimizer: &opt, maxGradNorm: 1)
            return (m, allBits(policy))
        }
        let (mc, bc) = try step(coupled: true), (mp, bp) = try step(coupled: false)
        #expect(mc.loss.isFinite && mc.gradNorm > 0)
        #expect(mc.loss != mp.loss && firstDifference(bc, bp) != nil)
    }
}
