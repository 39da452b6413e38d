import Foundation
import Manifest

/// What a multi-run preference training reports to the stage that runs it, and how it learns where to resume:
/// the stage's checkpoints and metrics in the manifest, its log, its interrupt flag and its outputs
/// (dpo-train binds these to its `StageContext`; tests keep them in memory).
public protocol PreferenceLedger {
    /// The global step of the newest usable checkpoint (nil: none).
    func latestCheckpoint() throws -> Int?
    /// Records the files of the checkpoint just written for global `step`.
    func recordCheckpoint(step: Int, files: [URL]) throws
    /// Records metric `name` (`<run>/loss`, ...) at a run's local `step`.
    func metric(_ name: String, step: Int, _ value: Double) throws
    /// Throws once the stage must stop; called after every step, when the state of that step is saved.
    func checkInterrupt() throws
    func info(_ line: String)
    /// The error to stop with when a step's `what` (`<run> loss`, `<run> gradient norm`) is not finite at global `step`.
    func diverged(step: Int, what: String) -> any Error
    /// Writes an output file `name` of `kind`; the stage records what the training returns when it finishes.
    func write(_ data: Data, name: String, kind: String) throws -> NewArtifact
}
