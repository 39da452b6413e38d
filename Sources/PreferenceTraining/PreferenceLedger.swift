import Foundation
import Manifest

/// What one run of preference training reports to the stage that runs it, and how it learns where to resume:
/// its checkpoints, metrics, log, interrupt flag and outputs (dpo-train binds these to the run's item; tests keep them
/// in memory).
public protocol PreferenceLedger {
    /// The step of the run's newest usable checkpoint (nil: none).
    func latestCheckpoint() throws -> Int?
    /// Called once the files of the checkpoint of `step` are written (the ledger may record them, or prune older ones).
    func recordCheckpoint(step: Int, files: [URL]) throws
    /// Records metric `name` (`<run>/loss`, ...) at the run's `step`.
    func metric(_ name: String, step: Int, _ value: Double) throws
    /// The metrics recorded before the checkpoint the run resumed from, restored with it: a ledger that lost them with
    /// the stopped process records them again; one that kept them ignores this.
    func restoreMetrics(_ metrics: [MetricHistory.Point])
    /// Throws once the stage must stop; called after every step, when the state of that step is saved.
    func checkInterrupt() throws
    func info(_ line: String)
    /// The error to stop with when a step's `what` (`<run> loss`, `<run> gradient norm`) is not finite after `step` steps.
    func diverged(step: Int, what: String) -> any Error
    /// Writes an output file `name` of `kind`; the stage records what the training returns when it finishes.
    func write(_ data: Data, name: String, kind: String) throws -> NewArtifact
}
