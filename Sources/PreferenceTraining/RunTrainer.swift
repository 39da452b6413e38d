import Foundation
import Manifest
import Objectives

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

    /// Trains the run from the ledger's newest checkpoint (`pairs`: the run's encoded pairs, asked for only when it has
    /// steps left), and writes its `<base>-<run>.safetensors` (kind `checkpoint/<base>`) and `<base>-<run>.json`
    /// (kind `record`), returned in that order.
    public func train(pairs: () throws -> [EncodedPair], ledger: some PreferenceLedger) throws -> [NewArtifact] {
        let r = try PreferenceRun(run, settings: settings, base: base, checkpoints: checkpoints)
        if let latest = try ledger.latestCheckpoint(), latest > 0 { try r.restore(at: min(latest, settings.steps), ledger: ledger) }
        if !r.isDone { try r.train(on: try pairs(), ledger: ledger) }
        return try r.finish(ledger: ledger)
    }

    /// Whether a run checkpoints after its `step`: at its last step, and every `every` steps (0: never).
    public static func checkpointDue(step: Int, steps: Int, every: Int) -> Bool {
        step == steps || (every > 0 && step > 0 && step % every == 0)
    }
}
