import Foundation
import Models
import NN
import Random
import Testing
import TensorCore
import World
@testable import Training

/// `JeDiTask` (issue 17 item 3): the same-subject batches, the ng_mask, and a training step of the JeDi U-Net.
@Suite struct JeDiTaskTests {
    static func task(cleanMember: Float = 0.5, setSizes: [Int] = [2, 3, 4], textDropout: Float = 0.1) throws -> JeDiTask {
        let te = try TextEncoder(config: TinyModels.text, key: RNGKey(seed: 1))
        let base = try UNet2DConditionModel(config: TinyModels.unet, key: RNGKey(seed: 2))
        return JeDiTask(unet: try JeDiUNet.fromBase(base), textEncoder: te, data: TinyModels.data, seed: 3, batchSize: 2,
                        setSizes: setSizes, textDropout: textDropout, cleanMemberFraction: cleanMember)
    }

    /// Every batch is `batchSize` sets of one drawn size, one subject each; a pure function of the step; over some
    /// steps every size and both ng_mask values occur.
    @Test func batchesAreSameSubjectSetsDrawnPerStep() throws {
        let t = try Self.task()
        var sizes = Set<Int>(), known = Set<Bool>()
        for step in 0..<12 {
            let b = try t.batch(step: step)
            #expect([2, 3, 4].contains(b.setSize) && b.known.count == 2 * b.setSize && b.prompts.count == b.known.count)
            #expect(b.images.shape == [2 * b.setSize, 3, 16, 16] && b.subjects.count == 2)
            for (i, s) in b.subjects.enumerated() {
                for p in b.prompts[(i * b.setSize)..<((i + 1) * b.setSize)] where !p.isEmpty {
                    #expect(p.contains(s.category.noun), "a set's prompts name its subject's category: \(p)")
                }
            }
            sizes.insert(b.setSize); known.formUnion(b.known)
        }
        #expect(sizes == [2, 3, 4] && known == [true, false])
        let again = try t.batch(step: 5), first = try t.batch(step: 5)
        #expect(again.images == first.images && again.known == first.known && again.prompts == first.prompts)
        #expect(try t.batch(step: 6).images != first.images)
    }

    /// With clean_member 1 every set's member 0 is the subject's clean canonical render (the test-time reference).
    @Test func theCleanMemberIsTheReferenceRender() throws {
        let b = try Self.task(cleanMember: 1, setSizes: [2]).batch(step: 1)
        let refs = try WorldData.references(b.subjects, resolution: 16)
        let per = 3 * 16 * 16
        for i in 0..<2 {
            #expect(Array(b.images.scalars[(2 * i * per)..<((2 * i + 1) * per)]) == Array(refs.scalars[(i * per)..<((i + 1) * per)]))
            #expect(Array(b.images.scalars[((2 * i + 1) * per)..<((2 * i + 2) * per)]) != Array(refs.scalars[(i * per)..<((i + 1) * per)]))
        }
    }

    /// One step trains every U-Net weight but the (unused) image branch, with a finite loss; the text tower stays.
    @Test func aStepTrainsTheJeDiUNet() throws {
        let t = try Self.task()
        let before = Dictionary(uniqueKeysWithValues: t.unet.namedParameters().map { ($0.0, $0.1.value.scalars) })
        let text = t.textEncoder.namedParameters().map { $0.1.value.scalars }
        let loss = try t.loss(step: 0)
        #expect(loss.item.isFinite && loss.item > 0)
        let trainer = Trainer(task: t, settings: TrainSettings(steps: 1, batchSize: 2, learningRate: 1e-2, seed: 3))
        try trainer.trainStep()
        let after = Dictionary(uniqueKeysWithValues: t.unet.namedParameters().map { ($0.0, $0.1.value.scalars) })
        #expect(after["conv_in.weight"] != before["conv_in.weight"])
        for (k, v) in before where k.contains("_ip.") { #expect(after[k] == v, "\(k) must stay frozen") }
        #expect(t.textEncoder.namedParameters().map { $0.1.value.scalars } == text)
        #expect(t.trainable.count == t.unet.namedParameters().count - t.unet.imageProjectionParameters().count)
    }
}
