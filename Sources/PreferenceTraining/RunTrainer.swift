import Foundation
import Manifest
import Checkpoint
import Objectives
import Pretrained

/// One run of preference training: the trained policy (an adapter, or JeDi's weights) of one `DPORun` (a loss, the ViT of
/// `patchdpo_vits` for PatchDPO-family losses, a seed). dpo-train runs each as one item, so runs are independent: a run's
/// (t, eps) and pair-order stream depends on its seed alone (the two PatchDPO variants of one seed differ only by their
/// quality maps), its checkpoints are its own, and it resumes from its newest one bit-for-bit, wherever and in whatever
/// order the runs are done.
public struct RunTrainer {
    public let run: DPORun
    public let settings: PreferenceSettings
    public let base: PreferenceBase
    /// This run's checkpoint folder: `step-<8 digits>/` per local step (`PolicyCheckpoint`).
    public let checkpoints: URL

    public init(run: DPORun, settings: PreferenceSettings, base: PreferenceBase, checkpoints: URL) {
        precondition(run.base == base.base, "RunTrainer: a run of \(run.base) on a \(base.base) base")
        self.run = run; self.settings = settings; self.base = base; self.checkpoints = checkpoints
    }

    /// Trains the run from the ledger's newest checkpoint (`pairs`: the run's encoded pairs; `models`: the frozen models
    /// it reads, by name and SHA-256, for `ShippedRun.inputsDigest`), and writes its `<base>-<run>.safetensors` (kind
    /// `checkpoint/<base>`), `<base>-<run>.json` (kind `record`) and `<base>-<run>.shipped.safetensors` (kind
    /// `shipped/<base>`), returned in that order.
    public func train(pairs: () throws -> [EncodedPair], models: [(name: String, sha256: String)],
                      ledger: some PreferenceLedger) throws -> [NewArtifact] {
        let r = try PreferenceRun(run, settings: settings, base: base, checkpoints: checkpoints)
        if let latest = try ledger.latestCheckpoint(), latest > 0 { try r.restore(at: min(latest, settings.steps), ledger: ledger) }
        let data = try pairs()
        if !r.isDone { try r.train(on: data, ledger: ledger) }
        return try r.finish(ledger: ledger, inputsDigest: ShippedRun.inputsDigest(pairs: data, models: models))
    }

    /// The run imported from its shipped form in `folder` (`ShippedRun`), or nil when the folder has none for it or it was
    /// trained on other inputs (logged; the caller trains it): the trained weights rebuilt on the base's starting weights
    /// (checked against the record's SHA-256), the record as shipped, the shipped file again, and the run's metric history
    /// recorded through the ledger. A shipped file or record that does not belong to this run is an error.
    public func importShipped(from folder: URL, pairs: () throws -> [EncodedPair], models: [(name: String, sha256: String)],
                              ledger: some PreferenceLedger) throws -> [NewArtifact]? {
        let wURL = folder.appendingPathComponent(ShippedRun.weightsName(run)), rURL = folder.appendingPathComponent(ShippedRun.recordName(run))
        guard FileManager.default.fileExists(atPath: wURL.path) else { return nil }
        guard let recordData = FileManager.default.contents(atPath: rURL.path) else { throw PretrainedError.missingCheckpoint(path: rURL.path) }
        let record: AdapterRecord
        do { record = try JSONDecoder().decode(AdapterRecord.self, from: recordData) } catch {
            throw PretrainedError.badCheckpoint(path: rURL.path, reason: "not an adapter record: \(error)")
        }
        guard record.name == run.name, record.steps == settings.steps,
              ShippedRun.runConfig(record.config) == ShippedRun.runConfig(settings.config) else {
            throw PretrainedError.badCheckpoint(path: rURL.path, reason: "its run (\(record.name ?? "?"), \(record.steps) steps, config "
                                                + "\(record.config)) is not this one (\(run.name), \(settings.steps) steps, config \(settings.config)); "
                                                + "hint: ship the run again, or train it here with --set 'from=\"\"'")
        }
        guard let shippedData = FileManager.default.contents(atPath: wURL.path) else { throw PretrainedError.missingCheckpoint(path: wURL.path) }
        let shipped = try SafeTensors.parse(shippedData, path: wURL.path)
        let digest = ShippedRun.inputsDigest(pairs: try pairs(), models: models)
        let weights: Data, history: [MetricHistory.Point]
        do {
            (weights, history) = try ShippedRun.unpack(shipped, path: wURL.path, record: record, initial: base.initial, inputsDigest: digest)
        } catch let error as ShippedRunError {
            // Other inputs (pairs, maps or frozen models that differ in a bit, as on another BLAS) make another run: train it.
            guard case .otherInputs = error else { throw error }
            ledger.info("\(run.name): not imported, training it: \(error)")
            return nil
        }
        for p in history { try ledger.metric(p.name, step: p.step, p.value) }
        ledger.info("\(run.name): imported \(wURL.path) (\(shipped.tensors.count) trained tensors; weights SHA-256 as recorded)")
        return [try ledger.write(weights, name: run.fileStem + ".safetensors", kind: "checkpoint/" + run.base.rawValue),
                try ledger.write(recordData, name: ShippedRun.recordName(run), kind: "record"),
                try ledger.write(shippedData, name: ShippedRun.weightsName(run), kind: "shipped/" + run.base.rawValue)]
    }

    /// Whether a run checkpoints after its `step`: at its last step, and every `every` steps (0: never).
    public static func checkpointDue(step: Int, steps: Int, every: Int) -> Bool {
        step == steps || (every > 0 && step > 0 && step % every == 0)
    }
}
