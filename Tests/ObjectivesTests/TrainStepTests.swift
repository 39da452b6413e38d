import Autograd
import Foundation
import Models
import Optim
import Random
import Testing
import TensorCore
import TestSupport
@testable import Objectives

/// One (t, eps) per pair, and whole training steps on the xs U-Net.
@Suite struct PairNoiseTests {
    @Test func eachPairSharesOneTimestepAndNoise() {
        var rng = RandomStream(seed: 3)
        let draw = PairNoise.draw(pairs: 3, imageShape: [2, 2, 2], trainSteps: 1000, withStepNoise: true, rng: &rng)
        let (t, eps) = draw.stacked(rows: 2)
        #expect(t.count == 6 && eps.shape == [6, 2, 2, 2])
        for p in 0..<3 {
            #expect(t[p] == t[p + 3] && t[p] == draw.timesteps[p])
            let a = Kernels.slice(eps, axis: 0, start: p, length: 1), b = Kernels.slice(eps, axis: 0, start: p + 3, length: 1)
            #expect(a == b, "pair \(p): both members must see the same eps")
        }
        #expect(Set(draw.timesteps).count > 1 || draw.timesteps.count == 1, "pairs draw their own t: \(draw.timesteps)")
        #expect(Kernels.slice(eps, axis: 0, start: 0, length: 1) != Kernels.slice(eps, axis: 0, start: 1, length: 1))
        // Same stream position -> same draws (what resume relies on).
        var again = RandomStream(seed: 3)
        #expect(PairNoise.draw(pairs: 3, imageShape: [2, 2, 2], trainSteps: 1000, withStepNoise: true, rng: &again) == draw)
        #expect(again == rng)
    }

    /// A pair whose two members are the same image must give u = 0 through the real model when t and
    /// eps are shared (per-member draws would make the two errors differ); a distinct pair must not.
    @Test func identicalMembersGiveZeroLogitThroughTheModel() throws {
        let policy = tinyPolicy()
        perturbAdapter(policy)
        let batch = tinyBatch(identicalFirstPair: true)
        var rng = RandomStream(seed: 8)
        let draw = PairNoise.draw(pairs: 2, imageShape: [3, 8, 8], trainSteps: 1000, withStepNoise: false, rng: &rng)
        let out = try PreferenceObjective(kind: .diffusionDPO).loss(policy: policy, batch: batch, draw: draw)
        let u = out.inside!
        #expect(abs(u[0]) < 1e-2, "identical members: u = \(u[0])")
        #expect(abs(u[1]) > 0.1, "distinct members: u = \(u[1]) (the adapter perturbation should move it)")
    }
}

@Suite(.serialized) struct TrainStepTests {
    @Test(arguments: [(LossKind.diffusionDPO, false, AdapterTrainable.image), (LossKind.patchdpo, true, .image),
                      (LossKind.patchdpo, false, .imageAndAttention), (LossKind.diffusionDPO, false, .imageAndAttention)])
    func stepChangesOnlyTheAdapter(kind: LossKind, trainResampler: Bool, trainable: AdapterTrainable) throws {
        let policy = tinyPolicy(trainResampler: trainResampler, trainable: trainable)
        let before = allBits(policy)
        let trainableKeys = Set(policy.trainable.map { $0.0.hasPrefix("image_proj.") ? $0.0 : "unet." + $0.0 })
        // The trainable set is the image branch, plus exactly every self-attention weight with image+attention.
        let attention = Set(policy.unet.namedParameters().map(\.0).filter { $0.contains(".attn1.") }.map { "unet." + $0 })
        #expect(!attention.isEmpty, "the xs U-Net has self-attention")
        #expect(trainableKeys.filter { $0.contains(".attn1.") } == (trainable == .imageAndAttention ? attention : []))
        #expect(trainableKeys.filter { $0.hasSuffix("to_k_ip.weight") || $0.hasSuffix("to_v_ip.weight") }.count
                == policy.unet.imageProjectionParameters().count)
        var rng = RandomStream(seed: 11)
        var opt = AdamW(learningRate: 1e-3, weightDecay: 0.01)
        let m = try PreferenceObjective(kind: kind).step(policy: policy, batch: tinyBatch(), rng: &rng,
                                                         optimizer: &opt, maxGradNorm: 1)
        #expect(m.loss.isFinite && m.gradNorm > 0, "\(m)")
        if kind == .diffusionDPO { expectClose(m.loss, Foundation.log(2), atol: 0, rtol: 5e-7, "policy == reference at step 1") }
        let after = allBits(policy)
        var changed = 0
        for (key, bits) in before {
            if trainableKeys.contains(key) {
                if after[key] != bits { changed += 1 }
            } else {
                #expect(after[key] == bits, "frozen parameter \(key) changed")
            }
        }
        #expect(changed == trainableKeys.count, "\(changed) of \(trainableKeys.count) adapter tensors changed")
        #expect(trainableKeys.contains { $0.hasPrefix("image_proj.") } == trainResampler)
        #expect(policy.unet.namedParameters().allSatisfy { $0.1.grad == nil }, "gradients must be cleared")
    }

    /// 3 steps straight vs 1 step, checkpoint, restore into a fresh policy whose adapter differs, 2 steps.
    @Test func resumeIsBitExact() throws {
        let objective = PreferenceObjective(kind: .hgDPO)
        let batch = tinyBatch(pairs: 1)
        func fresh() -> (AdapterPolicy, AdamW, RandomStream) {
            (tinyPolicy(trainResampler: true), AdamW(learningRate: 1e-3, weightDecay: 0.01), RandomStream(seed: 21))
        }
        var (a, optA, rngA) = fresh()
        for _ in 0..<3 { _ = try objective.step(policy: a, batch: batch, rng: &rngA, optimizer: &optA, maxGradNorm: 1) }

        var (b, optB, rngB) = fresh()
        _ = try objective.step(policy: b, batch: batch, rng: &rngB, optimizer: &optB, maxGradNorm: 1)
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("objectives-resume-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let dir = try PolicyCheckpoint.save(policy: b, optimizer: optB, rng: rngB, step: 1, root: root)

        let (c, _, _) = fresh()
        perturbAdapter(c)                                   // restore must overwrite this
        var optC = AdamW()
        var rngC = RandomStream(seed: 999)
        #expect(try PolicyCheckpoint.restore(from: dir, policy: c, optimizer: &optC, rng: &rngC) == 1)
        for _ in 0..<2 { _ = try objective.step(policy: c, batch: batch, rng: &rngC, optimizer: &optC, maxGradNorm: 1) }

        let diff = firstDifference(allBits(c), allBits(a))
        #expect(diff == nil, "resumed run differs from the uninterrupted run: \(diff ?? "")")
        #expect(c.weights.frozenStateDict() == a.weights.frozenStateDict())
        #expect(optC.stateFile() == optA.stateFile() && rngC == rngA)
    }
}

/// The reference branch runs the frozen adapter copy, and leaves the trained adapter in place.
@Suite struct ReferenceModelTests {
    @Test(arguments: AdapterTrainable.allCases)
    func referenceUsesTheFrozenAdapter(trainable: AdapterTrainable) {
        let policy = tinyPolicy(trainable: trainable), untouched = tinyPolicy()
        perturbAdapter(policy)
        let batch = tinyBatch(pairs: 1)
        let args = (x: batch.first, t: [400], text: batch.text, image: batch.imageFeatures)
        let before = allBits(policy)
        let ref = policy.predictReference(args.x, timesteps: args.t, text: args.text, imageFeatures: args.image)
        #expect(firstDifference(allBits(policy), before) == nil, "predictReference must restore the trained adapter")
        let want = withNoGrad { untouched.predict(args.x, timesteps: args.t, text: args.text, imageFeatures: args.image).value }
        let theta = withNoGrad { policy.predict(args.x, timesteps: args.t, text: args.text, imageFeatures: args.image).value }
        #expect(ref.scalars == want.scalars, "eps_ref must be the unperturbed model's prediction")
        #expect(theta.scalars != want.scalars, "the perturbed policy must predict differently")
    }
}
