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

    /// `pretrain jedi-sets`'s draw: set `index` is a pure function of (seed, index); its size comes from the list;
    /// its members are SameSubjectSet's renders with member 0 the clean render when the spec says so; a record
    /// round-trips and a bad one names its file.
    @Test func storedSetSpecsAndRecords() throws {
        let data = TinyModels.data
        let a = JeDiSets.spec(index: 7, seed: 11, sizes: [2, 5], data: data, cleanMemberFraction: 0.5)
        #expect(a == JeDiSets.spec(index: 7, seed: 11, sizes: [2, 5], data: data, cleanMemberFraction: 0.5))
        let specs = (0..<40).map { JeDiSets.spec(index: $0, seed: 11, sizes: [2, 5], data: data, cleanMemberFraction: 0.5) }
        #expect(Set(specs.map(\.size)) == [2, 5] && Set(specs.map(\.cleanMember)) == [true, false])
        #expect(Set(specs.map(\.subject)).count > 20 && specs.allSatisfy { $0.subject.split == .train })
        let clean = try #require(specs.first { $0.cleanMember })
        let m = try JeDiSets.members(clean, resolution: 16, supersample: 2)
        #expect(m.count == clean.size && m[0].prompt.contains(clean.subject.category.noun))
        #expect(m[0].image.toCHW() == (try WorldData.references([clean.subject], resolution: 16)).scalars)
        let scene = try SameSubjectSet.make(clean.subject, count: clean.size, seed: clean.seed, size: 16)
        #expect(Array(m.dropFirst().map(\.image)) == Array(scene.dropFirst().map(\.render.image)))
        let record = JeDiSetRecord(key: "set-00007", spec: a, prompts: Array(repeating: "p", count: a.size),
                                   files: (0..<a.size).map { "member-\($0).png" })
        #expect(try JeDiSetRecord.decode(record.encoded(), path: "x.json") == record)
        var short = record
        short.files.removeLast()
        #expect(throws: TrainingError.self) { try JeDiSetRecord.decode(try short.encoded(), path: "sets/set-00007.json") }
        do { _ = try JeDiSetRecord.decode(Data("{}".utf8), path: "sets/set-00009.json") } catch {
            #expect("\(error)".contains("sets/set-00009.json") && "\(error)".contains("jedi-sets --force"))
        }
    }

    /// With stored sets every batch holds sets of one stored size, drawn from the store (pixels and prompts as
    /// stored), never a size the store lacks; a set at another resolution is refused naming its file.
    @Test func batchesFromStoredSets() throws {
        var store = StoredJeDiSets(resolution: 16)
        var records: [JeDiSetRecord] = []
        for i in 0..<6 {
            let spec = JeDiSets.spec(index: i, seed: 4, sizes: [2, 3], data: TinyModels.data, cleanMemberFraction: 0.5)
            let m = try JeDiSets.members(spec, resolution: 16, supersample: 2)
            let r = JeDiSetRecord(key: "set-\(i)", spec: spec, prompts: m.map(\.prompt), files: m.indices.map { "member-\($0).png" })
            try store.add(r, images: m.map(\.image), path: "sets/set-\(i).json")
            records.append(r)
        }
        #expect(store.count == 6 && Set(store.sizes).isSubset(of: [2, 3]))
        let te = try TextEncoder(config: TinyModels.text, key: RNGKey(seed: 1))
        let unet = try JeDiUNet.fromBase(UNet2DConditionModel(config: TinyModels.unet, key: RNGKey(seed: 2)))
        let t = JeDiTask(unet: unet, textEncoder: te, data: TinyModels.data, seed: 3, batchSize: 2, setSizes: [2, 3, 4],
                         textDropout: 0, stored: store)
        var seen = Set<Int>()
        for step in 0..<10 {
            let b = try t.batch(step: step)
            #expect(store.sizes.contains(b.setSize))
            seen.insert(b.setSize)
            let per = 3 * 16 * 16 * b.setSize
            for i in 0..<2 {
                let pixels = Array(b.images.scalars[(i * per)..<((i + 1) * per)])
                let prompts = Array(b.prompts[(i * b.setSize)..<((i + 1) * b.setSize)])
                #expect(store.bySize[b.setSize]!.contains { $0.images == pixels && $0.prompts == prompts && $0.subject == b.subjects[i] })
            }
        }
        #expect(seen == Set(store.sizes))
        #expect(try t.batch(step: 4).images == t.batch(step: 4).images)
        var wrong = StoredJeDiSets(resolution: 32)
        let m = try JeDiSets.members(records[0].spec, resolution: 16, supersample: 2)
        do { try wrong.add(records[0], images: m.map(\.image), path: "sets/set-0.json"); Issue.record("accepted a 16 px set at 32") } catch {
            #expect("\(error)".contains("sets/set-0.json") && "\(error)".contains("member-0.png"))
        }
    }

}
