import Checkpoint
import Foundation
import Manifest
import Objectives
import Testing
@testable import PreferenceTraining

/// A run's shipped form (`ShippedRun`, dpo-train's `from`): what each trained run writes beside its adapter holds only the
/// tensors it changed, and importing it into a fresh process gives back the trained adapter, record and metrics bit for
/// bit; a shipped run of other inputs is not imported (the run trains), and one of another base or config, or a file that is
/// not a shipped run, is refused with an error naming the file.
@Suite(.serialized) struct ShippedRunTests {
    /// The folder a reproduction ships: each run's `.shipped.safetensors` and record, as trained by `RunResumeTests.train`.
    static func shipped(_ o: RunResumeTests.Outcome) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("shipped-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for (name, data) in o.written where name.hasSuffix(".shipped.safetensors") || name.hasSuffix(".json") {
            try data.write(to: dir.appendingPathComponent(name))
        }
        return dir
    }

    /// Imports `run` from `folder` in a fresh process (new base, new ledger) with `pairs` and `settings`.
    static func importRun(_ run: DPORun, from folder: URL, pairs: [EncodedPair] = Tiny.pairs(), settings: PreferenceSettings = Tiny.settings(),
                          models: [(name: String, sha256: String)] = Tiny.models) throws -> (out: [NewArtifact]?, ledger: MemoryLedger) {
        let ledger = MemoryLedger(LedgerStore(), counter: StepCounter(stopAfter: nil))
        let trainer = RunTrainer(run: run, settings: settings, base: try Tiny.base(),
                                 checkpoints: folder.appendingPathComponent("unused-checkpoints"))
        return (try trainer.importShipped(from: folder, pairs: { pairs }, models: models, ledger: ledger), ledger)
    }

    @Test func anImportedRunIsTheTrainedRunBitForBit() throws {
        let trained = try RunResumeTests.train(stopAfter: nil)
        let folder = try Self.shipped(trained)
        defer { try? FileManager.default.removeItem(at: folder) }
        for run in RunResumeTests.runs {
            let (out, ledger) = try Self.importRun(run, from: folder)
            let names = try #require(out).map { ($0.relativePath as NSString).lastPathComponent }
            #expect(names == ["adapter-\(run.name).safetensors", "adapter-\(run.name).json", "adapter-\(run.name).shipped.safetensors"])
            for name in names { #expect(ledger.written[name] == trained.written[name], "\(name) differs when imported") }
            #expect(ledger.store.metrics == trained.stores[run.name]!.metrics)
            #expect(ledger.store.checkpoints.isEmpty, "an import trains nothing")
        }
    }

    /// The shipped file holds the trained image branch alone (every to_k_ip/to_v_ip, not the frozen resampler), with the
    /// trained file's metadata.
    @Test func theShippedFileHoldsOnlyWhatTheRunChanged() throws {
        let trained = try RunResumeTests.train(stopAfter: nil)
        let full = try SafeTensors.parse(try #require(trained.written["adapter-diffusion-dpo-s1.safetensors"]), path: "full")
        let shipped = try SafeTensors.parse(try #require(trained.written["adapter-diffusion-dpo-s1.shipped.safetensors"]), path: "shipped")
        let ip = Set(full.tensors.keys.filter { $0.hasSuffix("to_k_ip.weight") || $0.hasSuffix("to_v_ip.weight") })
        #expect(!ip.isEmpty && Set(shipped.tensors.keys) == ip)
        #expect(full.tensors.keys.contains { $0.hasPrefix("image_proj.") })
        for (k, v) in full.metadata { #expect(shipped.metadata[k] == v) }
        #expect(shipped.metadata[ShippedRun.inputsKey]?.count == 64 && shipped.metadata[ShippedRun.historyKey] != nil)
    }

    @Test func aRunNotInTheFolderTrains() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("empty-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(try Self.importRun(RunResumeTests.runs[0], from: folder).out == nil)
    }

    @Test func otherInputsTrainWhileAnotherBaseAnotherConfigOrAFullFileAreRefused() throws {
        let trained = try RunResumeTests.train(stopAfter: nil)
        let folder = try Self.shipped(trained)
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = RunResumeTests.runs[1]
        let path = folder.appendingPathComponent("adapter-\(run.name).shipped.safetensors").path
        // Other pairs, or another frozen model: the inputs' digest differs, so the run is another one and trains (logged).
        var pairs = Tiny.pairs()
        pairs[2].qg = Tiny.tensor([1, 1, 8, 8], seed: 999, uniform: true)
        let otherPairs = try Self.importRun(run, from: folder, pairs: pairs)
        #expect(otherPairs.out == nil && otherPairs.ledger.written.isEmpty && otherPairs.ledger.store.metrics.isEmpty)
        #expect(otherPairs.ledger.lines.contains { $0.hasPrefix("\(run.name): not imported, training it: dpo-train: \(path) was trained on other inputs") },
                "\(otherPairs.ledger.lines)")
        let otherModels = try Self.importRun(run, from: folder, models: [("artifacts/pretrain-unet/unet.safetensors", String(repeating: "b", count: 64))])
        #expect(otherModels.out == nil && otherModels.ledger.lines.count == 1)
        #expect { try ShippedRun.unpack(try SafeTensors.read(URL(fileURLWithPath: path)), path: path,
                                        record: try JSONDecoder().decode(AdapterRecord.self, from: trained.written["adapter-\(run.name).json"]!),
                                        initial: try Tiny.base().initial, inputsDigest: "other") }
            throws: { error in
                guard case .otherInputs(let p, _, let here)? = error as? ShippedRunError else { return false }
                return p == path && here == "other"
            }
        // Another config (more steps): the record's run is not this one.
        #expect { try Self.importRun(run, from: folder, settings: Tiny.settings(steps: 4)) } throws: { error in
            "\(error)".contains("adapter-\(run.name).json") && "\(error)".contains("is not this one")
        }
        // An edited trained tensor: the rebuilt file no longer hashes to the record's weightsSHA256.
        var shipped = try SafeTensors.read(URL(fileURLWithPath: path))
        let key = try #require(shipped.tensors.keys.sorted().first)
        shipped.tensors[key]!.values[0] += 1
        try SafeTensors.write(shipped, to: URL(fileURLWithPath: path))
        #expect { try Self.importRun(run, from: folder) } throws: { ($0 as? ShippedRunError) == .otherBase(path: path) }
        // A full adapter file in the shipped file's place: not a shipped run.
        try trained.written["adapter-\(run.name).safetensors"]!.write(to: URL(fileURLWithPath: path))
        #expect { try Self.importRun(run, from: folder) } throws: { ($0 as? ShippedRunError) == .notShipped(path: path) }
    }

    /// The keys that choose which runs a stage makes are not part of a run's config; every other key is.
    @Test func aRunsConfigLeavesOutTheRunSelection() {
        let a = "batch = 4\nlosses = [\"dm\"]\nlr = 0.0001\npatchdpo_vits = [\"finetuned\"]\nseeds = [1]\n"
        let b = "batch = 4\nlosses = [\"dm\", \"patchdpo\"]\nlr = 0.0001\npatchdpo_vits = [\"finetuned\", \"original\"]\nseeds = [1, 2, 3]\n"
        #expect(ShippedRun.runConfig(a) == ShippedRun.runConfig(b))
        #expect(ShippedRun.runConfig(a) != ShippedRun.runConfig(a.replacingOccurrences(of: "lr = 0.0001", with: "lr = 0.001")))
    }

    /// A tensor counts as unchanged only bit for bit: a zero that became -0 ships.
    @Test func unchangedMeansTheSameBits() {
        let zero = TensorData(shape: [2], values: [0, 1]), negative = TensorData(shape: [2], values: [-0.0, 1])
        #expect(ShippedRun.sameBits(zero, zero) && !ShippedRun.sameBits(zero, negative) && !ShippedRun.sameBits(nil, zero))
        let nan = TensorData(shape: [1], values: [.nan])
        #expect(ShippedRun.sameBits(nan, nan))
    }
}
