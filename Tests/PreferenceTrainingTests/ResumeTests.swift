import Checkpoint
import Foundation
import Objectives
import Testing
@testable import PreferenceTraining

/// Multi-run training (two runs of three steps, a checkpoint every two steps and at each run's end) stopped
/// after global step g and resumed in a fresh process ends with the same adapters, records and metrics as the
/// uninterrupted training.
@Suite(.serialized) struct MultiRunResumeTests {
    static let runs = DPORun.plan(losses: [.patchdpo, .diffusionDPO], vits: ["finetuned"], seeds: [1])

    struct Outcome {
        var written: [String: Data]
        var store: LedgerStore
        var pairCalls: [String]
        var lines: [String]
    }

    /// Trains every run, first stopping after `stopAfter` global steps (nil: never) and resuming from the newest checkpoint.
    static func train(stopAfter: Int?, coupled: Bool = false, jedi: Bool = false) throws -> Outcome {
        let runs = jedi ? DPORun.plan(losses: [.patchdpo, .diffusionDPO], vits: ["finetuned"], seeds: [1], base: .jedi) : Self.runs
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("multirun-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let store = LedgerStore()
        var calls: [String] = []
        func process(_ ledger: MemoryLedger) throws -> [String: Data] {
            let trainer = MultiRunTrainer(runs: runs, settings: Tiny.settings(), base: try jedi ? Tiny.jediBase() : Tiny.base(), checkpoints: root)
            let out = try trainer.train(pairs: { calls.append($0.name); return jedi ? Tiny.jediPairs() : Tiny.pairs(coupled: coupled) }, ledger: ledger)
            let names: [String] = out.map { ($0.relativePath as NSString).lastPathComponent }
            let prefix = jedi ? "jedi" : "adapter"
            let want: [String] = runs.flatMap { ["\(prefix)-\($0.name).safetensors", "\(prefix)-\($0.name).json"] }
            #expect(names == want)
            #expect(out.map(\.kind) == runs.flatMap { _ in ["checkpoint/" + prefix, "record"] })
            return ledger.written
        }
        if let stopAfter {
            #expect(throws: MemoryLedger.Stop.self) { _ = try process(MemoryLedger(store, stopAfter: stopAfter)) }
            calls = []
        }
        let ledger = MemoryLedger(store)
        return Outcome(written: try process(ledger), store: store, pairCalls: calls, lines: ledger.lines)
    }

    @Test func uninterruptedTrainingCheckpointsAtItsCadence() throws {
        let o = try Self.train(stopAfter: nil)
        // Global steps: run 0 = 1...3, run 1 = 4...6; every 2 local steps and at each run's last.
        #expect(o.store.checkpoints.keys.sorted() == [2, 3, 5, 6])
        #expect(o.store.checkpoints[3] == ["index.json", "model.safetensors", "optimizer.safetensors", "reference.safetensors", "rng.json"])
        #expect(o.pairCalls == ["patchdpo-finetuned-s1", "diffusion-dpo-s1"])
        #expect(o.store.metrics["patchdpo-finetuned-s1/loss@3"] != nil && o.store.metrics["diffusion-dpo-s1/implicit_acc@3"] != nil)
        let steps = Set(o.store.metrics.keys.filter { $0.hasPrefix("diffusion-dpo-s1/loss@") })
        #expect(steps == ["diffusion-dpo-s1/loss@1", "diffusion-dpo-s1/loss@2", "diffusion-dpo-s1/loss@3"])
        let record = try JSONDecoder().decode(AdapterRecord.self, from: try #require(o.written["adapter-diffusion-dpo-s1.json"]))
        #expect(record.finalLoss == o.store.metrics["diffusion-dpo-s1/loss@3"] && record.steps == 3 && record.name == "diffusion-dpo-s1")
        #expect(record.beta == 5000 && record.codeVersion == "test-1")
        // The adapters trained: they differ from each other and from the base.
        #expect(o.written["adapter-patchdpo-finetuned-s1.safetensors"] != o.written["adapter-diffusion-dpo-s1.safetensors"])
    }

    /// Stopped mid-run off the cadence (1: the stop saves a checkpoint), on it (2), exactly at the run boundary (3:
    /// run 0 is restored finished, its adapter and record written from the checkpoint), in the second run (4), and
    /// after the final step (6: both runs restored finished, no pairs encoded, final losses from the checkpoints).
    @Test(arguments: [1, 2, 3, 4, 6])
    func resumingAtAStepBoundaryEndsLikeTheUninterruptedRun(stopAfter: Int) throws {
        let straight = try Self.train(stopAfter: nil)
        let resumed = try Self.train(stopAfter: stopAfter)
        #expect(resumed.written.keys.sorted() == straight.written.keys.sorted())
        for (name, data) in straight.written { #expect(resumed.written[name] == data, "\(name) differs after a stop at step \(stopAfter)") }
        #expect(resumed.store.metrics == straight.store.metrics)
        #expect(resumed.store.recordedTwice.isEmpty, "\(resumed.store.recordedTwice)")
        #expect(Set(resumed.store.checkpoints.keys).isSuperset(of: straight.store.checkpoints.keys))
        let started = stopAfter < 3 ? Self.runs.map(\.name) : stopAfter < 6 ? [Self.runs[1].name] : []
        #expect(resumed.pairCalls == started)
        let local = stopAfter <= 3 ? stopAfter : stopAfter - 3
        #expect(resumed.lines.contains("\(Self.runs[stopAfter <= 3 ? 0 : 1].name): resumed at step \(local)/3"), "\(resumed.lines)")
    }

    /// JeDi as the base (`base = "jedi"`): each run trains the coupled self-attention of the joint-image U-Net, writes
    /// `jedi-<run>.*` with its record naming the base, and a stop mid-run or at the run boundary resumes bit-for-bit.
    @Test(arguments: [2, 4])
    func jediRunsResumeLikeTheUninterruptedRun(stopAfter: Int) throws {
        let straight = try Self.train(stopAfter: nil, jedi: true)
        let resumed = try Self.train(stopAfter: stopAfter, jedi: true)
        #expect(resumed.written.keys.sorted() == straight.written.keys.sorted())
        for (name, data) in straight.written { #expect(resumed.written[name] == data, "\(name) differs after a stop at step \(stopAfter)") }
        #expect(resumed.store.metrics == straight.store.metrics)
        let record = try JSONDecoder().decode(AdapterRecord.self, from: try #require(straight.written["jedi-patchdpo-finetuned-s1.json"]))
        #expect(record.base == "jedi" && record.name == "patchdpo-finetuned-s1")
        let weights = try SafeTensors.parse(try #require(straight.written["jedi-patchdpo-finetuned-s1.safetensors"]), path: "w")
        #expect(!weights.tensors.isEmpty && weights.tensors.keys.allSatisfy { $0.contains(".attn1.") })
        #expect(weights.metadata["format"] == "jedi")
        #expect(straight.written["jedi-patchdpo-finetuned-s1.safetensors"] != straight.written["jedi-diffusion-dpo-s1.safetensors"])
    }

    /// With reference attention (pairs carrying their references) the batches are coupled, the adapters differ from
    /// the uncoupled training's, and a stop mid-run resumes to the same bytes (the reference noise is in the stream).
    @Test func aCoupledTrainingResumesLikeTheUninterruptedOne() throws {
        #expect(Tiny.pairs(coupled: true).batch([0, 2], kind: .patchdpo).coupling?.references.shape == [2, 3, 8, 8])
        #expect(Tiny.pairs().batch([0, 2], kind: .patchdpo).coupling == nil)
        let straight = try Self.train(stopAfter: nil, coupled: true)
        let plain = try Self.train(stopAfter: nil)
        #expect(straight.written["adapter-diffusion-dpo-s1.safetensors"] != plain.written["adapter-diffusion-dpo-s1.safetensors"])
        let resumed = try Self.train(stopAfter: 2, coupled: true)
        for (name, data) in straight.written { #expect(resumed.written[name] == data, "\(name) differs after a stop at step 2") }
        #expect(resumed.store.metrics == straight.store.metrics)
    }

    @Test func resumeArithmetic() {
        // The run at offset 3 (the second of 3-step runs): not started, mid-way, finished (latest at or past its end).
        #expect(MultiRunTrainer.resumePoint(latest: 0, offset: 3, steps: 3) == nil)
        #expect(MultiRunTrainer.resumePoint(latest: 3, offset: 3, steps: 3) == nil)
        #expect(MultiRunTrainer.resumePoint(latest: 4, offset: 3, steps: 3) == 4)
        #expect(MultiRunTrainer.resumePoint(latest: 6, offset: 3, steps: 3) == 6)
        #expect(MultiRunTrainer.resumePoint(latest: 9, offset: 3, steps: 3) == 6)
        #expect((1...5).filter { MultiRunTrainer.checkpointDue(step: $0, steps: 5, every: 2) } == [2, 4, 5])
        #expect((1...5).filter { MultiRunTrainer.checkpointDue(step: $0, steps: 5, every: 0) } == [5])
    }
}
