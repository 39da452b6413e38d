import Checkpoint
import Foundation
import Models
import Objectives
import Testing
@testable import PreferenceTraining

/// Runs trained as dpo-train's items (two runs of three steps, a checkpoint every two steps and at each run's end, each
/// in its own checkpoint folder): a process stopped after its g-th step, and a fresh process that trains the runs whose
/// outputs were not written (the item loop's done items are not run again), end with the same adapters, records and
/// metrics as the uninterrupted training.
@Suite(.serialized) struct RunResumeTests {
    static let runs = DPORun.plan(losses: [.patchdpo, .diffusionDPO], vits: ["finetuned"], seeds: [1])

    struct Outcome {
        var written: [String: Data]
        /// Per run.
        var stores: [String: LedgerStore]
        var pairCalls: [String]
        var lines: [String]
        var metrics: [String: Double] { stores.values.reduce(into: [:]) { $0.merge($1.metrics) { a, _ in a } } }
        var recordedTwice: [String] { stores.values.flatMap(\.recordedTwice) }
    }

    /// Trains every run, first stopping after `stopAfter` steps (nil: never) and resuming from each run's newest checkpoint;
    /// `journal`: metrics reach the store only when a run finishes (`MemoryLedger`).
    static func train(stopAfter: Int?, coupled: Bool = false, jedi: Bool = false, journal: Bool = false,
                      trainable: AdapterTrainable = .image) throws -> Outcome {
        let runs = jedi ? DPORun.plan(losses: [.patchdpo, .diffusionDPO], vits: ["finetuned"], seeds: [1], base: .jedi) : Self.runs
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("runs-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let stores = Dictionary(uniqueKeysWithValues: runs.map { ($0.name, LedgerStore()) })
        var written: [String: Data] = [:], calls: [String] = [], lines: [String] = []
        func process(_ counter: StepCounter) throws {
            let base = try jedi ? Tiny.jediBase() : Tiny.base(trainable: trainable)
            let prefix = jedi ? "jedi" : "adapter"
            for run in runs where written["\(prefix)-\(run.name).json"] == nil {
                let ledger = MemoryLedger(stores[run.name]!, counter: counter, journal: journal)
                defer { lines += ledger.lines }
                let trainer = RunTrainer(run: run, settings: Tiny.settings(), base: base, checkpoints: root.appendingPathComponent(run.name))
                let out = try trainer.train(pairs: { calls.append(run.name); return jedi ? Tiny.jediPairs() : Tiny.pairs(coupled: coupled) },
                                            models: Tiny.models, ledger: ledger)
                #expect(out.map { ($0.relativePath as NSString).lastPathComponent }
                    == ["\(prefix)-\(run.name).safetensors", "\(prefix)-\(run.name).json", "\(prefix)-\(run.name).shipped.safetensors"])
                #expect(out.map(\.kind) == ["checkpoint/" + prefix, "record", "shipped/" + prefix])
                written.merge(ledger.written) { _, new in new }
            }
        }
        if let stopAfter {
            #expect(throws: MemoryLedger.Stop.self) { try process(StepCounter(stopAfter: stopAfter)) }
            calls = []; lines = []
        }
        try process(StepCounter(stopAfter: nil))
        return Outcome(written: written, stores: stores, pairCalls: calls, lines: lines)
    }

    @Test func uninterruptedTrainingCheckpointsAtItsCadence() throws {
        let o = try Self.train(stopAfter: nil)
        // Each run's own steps: every 2 and at its last.
        for run in Self.runs {
            #expect(o.stores[run.name]!.checkpoints.keys.sorted() == [2, 3])
            #expect(o.stores[run.name]!.checkpoints[3] == ["index.json", "model.safetensors", "optimizer.safetensors", "reference.safetensors", "rng.json"])
        }
        #expect(o.pairCalls == ["patchdpo-finetuned-s1", "diffusion-dpo-s1"])
        #expect(o.metrics["patchdpo-finetuned-s1/loss@3"] != nil && o.metrics["diffusion-dpo-s1/implicit_acc@3"] != nil)
        let steps = Set(o.metrics.keys.filter { $0.hasPrefix("diffusion-dpo-s1/loss@") })
        #expect(steps == ["diffusion-dpo-s1/loss@1", "diffusion-dpo-s1/loss@2", "diffusion-dpo-s1/loss@3"])
        let record = try JSONDecoder().decode(AdapterRecord.self, from: try #require(o.written["adapter-diffusion-dpo-s1.json"]))
        #expect(record.finalLoss == o.metrics["diffusion-dpo-s1/loss@3"] && record.steps == 3 && record.name == "diffusion-dpo-s1")
        #expect(record.beta == 5000 && record.codeVersion == "test-1")
        // The adapters trained: they differ from each other and from the base.
        #expect(o.written["adapter-patchdpo-finetuned-s1.safetensors"] != o.written["adapter-diffusion-dpo-s1.safetensors"])
    }

    /// Stopped mid-run off the cadence (1: the stop saves a checkpoint), on it (2), after run 0's last step but before
    /// its outputs (3: run 0 is restored finished, its adapter and record written from the checkpoint), in the second run
    /// (4: run 0 is done and not run again), and after the final step (6: run 1 restored finished, final losses from the
    /// checkpoints; its pairs are still asked for, for the shipped form's inputs digest); with the metrics in the manifest, and in a journal, which loses a stopped process's.
    @Test(arguments: [1, 2, 3, 4, 6], [false, true])
    func resumingAtAStepBoundaryEndsLikeTheUninterruptedRun(stopAfter: Int, journal: Bool) throws {
        let straight = try Self.train(stopAfter: nil)
        let resumed = try Self.train(stopAfter: stopAfter, journal: journal)
        #expect(resumed.written.keys.sorted() == straight.written.keys.sorted())
        for (name, data) in straight.written { #expect(resumed.written[name] == data, "\(name) differs after a stop at step \(stopAfter)") }
        #expect(resumed.metrics == straight.metrics)
        #expect(resumed.recordedTwice.isEmpty, "\(resumed.recordedTwice)")
        for run in Self.runs {
            #expect(Set(resumed.stores[run.name]!.checkpoints.keys).isSuperset(of: straight.stores[run.name]!.checkpoints.keys))
        }
        let started = stopAfter <= 3 ? Self.runs.map(\.name) : [Self.runs[1].name]
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
        #expect(resumed.metrics == straight.metrics)
        let record = try JSONDecoder().decode(AdapterRecord.self, from: try #require(straight.written["jedi-patchdpo-finetuned-s1.json"]))
        #expect(record.base == "jedi" && record.name == "patchdpo-finetuned-s1")
        let weights = try SafeTensors.parse(try #require(straight.written["jedi-patchdpo-finetuned-s1.safetensors"]), path: "w")
        #expect(!weights.tensors.isEmpty && weights.tensors.keys.allSatisfy { $0.contains(".attn1.") })
        #expect(weights.metadata["format"] == "jedi")
        #expect(straight.written["jedi-patchdpo-finetuned-s1.safetensors"] != straight.written["jedi-diffusion-dpo-s1.safetensors"])
    }

    /// `adapter_trainable = "image+attention"`: every run trains the image branch and the self-attention, writes both
    /// (record `trainable`), and starts from the pretrained self-attention, not the previous run's: a fresh process that
    /// trains only the second run (stopped at the run boundary) ends with the same bytes as the uninterrupted training.
    @Test func attentionTrainingRunsStartFromThePretrainedAttention() throws {
        let straight = try Self.train(stopAfter: nil, trainable: .imageAndAttention)
        let resumed = try Self.train(stopAfter: 4, trainable: .imageAndAttention)
        for (name, data) in straight.written { #expect(resumed.written[name] == data, "\(name) differs after a stop at step 4") }
        let weights = try SafeTensors.parse(try #require(straight.written["adapter-diffusion-dpo-s1.safetensors"]), path: "w")
        #expect(weights.tensors.keys.contains { $0.contains(".attn1.") } && weights.tensors.keys.contains { $0.hasSuffix("to_k_ip.weight") })
        #expect(weights.metadata["trainable"] == "image+attention")
        let record = try JSONDecoder().decode(AdapterRecord.self, from: try #require(straight.written["adapter-diffusion-dpo-s1.json"]))
        #expect(record.trainable == "image+attention")
        let plain = try Self.train(stopAfter: nil)
        let plainWeights = try SafeTensors.parse(try #require(plain.written["adapter-diffusion-dpo-s1.safetensors"]), path: "w")
        #expect(!plainWeights.tensors.keys.contains { $0.contains(".attn1.") } && plainWeights.metadata["trainable"] == "image")
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
        #expect(resumed.metrics == straight.metrics)
    }

    @Test func checkpointCadence() {
        #expect((1...5).filter { RunTrainer.checkpointDue(step: $0, steps: 5, every: 2) } == [2, 4, 5])
        #expect((1...5).filter { RunTrainer.checkpointDue(step: $0, steps: 5, every: 0) } == [5])
    }

    /// The metric history round-trips exactly (NaN, infinities, signed zero and names with slashes), and a damaged line is
    /// an error naming the file and the line.
    @Test func metricHistoryIsExact() throws {
        let points: [MetricHistory.Point] = [("a/loss", 1, 0.1), ("a/implicit_acc", 1, .nan), ("b/x", 2, -.infinity), ("c", 3, -0.0),
                                             ("a/loss", 2, 1e-300)]
        let back = try MetricHistory.decode(MetricHistory.encode(points), path: "x")
        #expect(back.map(\.name) == points.map(\.name) && back.map(\.step) == points.map(\.step))
        #expect(back.map(\.value.bitPattern) == points.map(\.value.bitPattern))
        #expect(try MetricHistory.decode("", path: "x").isEmpty)
        #expect(throws: DPOTrainError.badCheckpointMetadata(path: "/c/index.json", key: "metric_history", line: 2)) {
            try MetricHistory.decode("a\t1\t0\nb\t2", path: "/c/index.json")
        }
    }
}
