import Foundation
import Manifest
import Objectives

/// Multi-run preference training: one trained policy (an adapter, or JeDi's weights) per `DPORun` (loss x ViT of `patchdpo_vits` for PatchDPO-family
/// losses x seed), in plan order, inside one stage run. Global step g = (run index) * steps + local step; every
/// run ends with a checkpoint, so a resumed stage reloads finished runs' weights from their last checkpoint and
/// continues the current run bit-for-bit. Runs of one (loss, seed) share the (t, eps) and pair-order stream
/// whatever the ViT, so the two PatchDPO variants differ only by their quality maps.
public struct MultiRunTrainer {
    public let runs: [DPORun]
    public let settings: PreferenceSettings
    public let base: PreferenceBase
    /// The checkpoints' folder: `step-<8 digits>/` per global step (`PolicyCheckpoint`).
    public let checkpoints: URL

    public init(runs: [DPORun], settings: PreferenceSettings, base: PreferenceBase, checkpoints: URL) {
        precondition(runs.allSatisfy { $0.base == base.base }, "MultiRunTrainer: runs of another generator than the base's \(base.base)")
        self.runs = runs; self.settings = settings; self.base = base; self.checkpoints = checkpoints
    }

    /// Trains every run not finished at the ledger's newest checkpoint (`pairs`: a run's encoded pairs, asked for
    /// only when it has steps left), and writes each run's `<base>-<run>.safetensors` (kind `checkpoint/<base>`)
    /// and `<base>-<run>.json` (kind `record`) as it ends; returns them in that order.
    public func train(pairs: (DPORun) throws -> [EncodedPair], ledger: some PreferenceLedger) throws -> [NewArtifact] {
        let latest = try ledger.latestCheckpoint() ?? 0
        var outputs: [NewArtifact] = []
        for (index, run) in runs.enumerated() {
            let r = try PreferenceRun(run, offset: index * settings.steps, settings: settings, base: base, checkpoints: checkpoints)
            if let at = Self.resumePoint(latest: latest, offset: r.offset, steps: settings.steps) { try r.restore(at: at, ledger: ledger) }
            if !r.isDone { try r.train(on: try pairs(run), ledger: ledger) }
            outputs += try r.finish(ledger: ledger)
        }
        return outputs
    }

    /// The global step whose checkpoint the run at global `offset` resumes from, given the newest checkpoint at
    /// `latest` (0: none): nil when the run had not started (latest <= offset), else the newest step of it
    /// (a finished run's is its last, offset + steps).
    public static func resumePoint(latest: Int, offset: Int, steps: Int) -> Int? {
        latest > offset ? min(latest, offset + steps) : nil
    }

    /// Whether a run checkpoints after its local `step`: at its last step, and every `every` steps (0: never).
    public static func checkpointDue(step: Int, steps: Int, every: Int) -> Bool {
        step == steps || (every > 0 && step > 0 && step % every == 0)
    }
}
