import Foundation
import Manifest
import Optim
import PreferenceTraining
import StageKit

/// One run's item as its training's ledger: checkpoints in the item's own folder (files that vouch for themselves, so a
/// journal shard on another host finds them without the manifest; the newest two kept), metrics and outputs through the
/// item (the manifest, or the shard's journal), the stage's log, and the item's interrupt check (which also renews its lease).
struct ItemLedger: PreferenceLedger {
    let item: ItemContext
    /// Checkpoints kept per run: the newest, and one before it in case the newest's files are damaged.
    static let kept = 2

    func latestCheckpoint() throws -> Int? { TrainingCheckpoint.completeSteps(in: item.checkpoints).last }

    func recordCheckpoint(step: Int, files: [URL]) throws {
        try TrainingCheckpoint.prune(in: item.checkpoints, keepingNewest: Self.kept)
    }

    func metric(_ name: String, step: Int, _ value: Double) throws { try item.metric(name, step: step, value) }
    func restoreMetrics(_ metrics: [MetricHistory.Point]) { item.restoreMetrics(metrics) }
    func checkInterrupt() throws { try item.checkInterrupt() }
    func info(_ line: String) { item.runner.log.info(line) }
    func diverged(step: Int, what: String) -> any Error { StageError.diverged(stage: item.runner.stage, step: step, what: what) }
    func write(_ data: Data, name: String, kind: String) throws -> NewArtifact { try item.write(data, name: name, kind: kind) }
}
