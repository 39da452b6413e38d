import Foundation
import Manifest

/// Items that run for minutes or hours (one training run of dpo-train per item): they keep their own checkpoints,
/// stop between steps on a signal, keep their lease, and carry their metrics across a resume.
///
/// The checkpoints are files only, never manifest records, so a journal shard on another host (which never opens the
/// manifest) keeps and finds them the same way: a checkpoint format that vouches for itself (e.g. `Optim.TrainingCheckpoint`,
/// whose index is written last) is what a resumed item looks for in `checkpoints`.
extension ItemContext {
    /// This item's checkpoint folder, `artifacts/<stage>/checkpoints/<stage run>-<fingerprint, 16 hex>/<key>/` (not
    /// created): scoped by the stage run, so a forced rerun starts over, by its fingerprint, so nothing with another
    /// config, code or inputs resumes from it (not even after the manifest was recreated and the ids start again), and by
    /// the key (characters other than [A-Za-z0-9._-] percent-encoded), so shards never share one.
    public var checkpoints: URL {
        runner.itemCheckpointRoot(stageRun: stageRun, fingerprint: fingerprint).appendingPathComponent(Self.pathComponent(key), isDirectory: true)
    }

    /// Call between the steps of a long item, after saving what a resume needs: throws `.interrupted` once SIGINT/SIGTERM
    /// arrived (the loop then returns the item to pending, or leaves it undone in a journal), and otherwise renews the
    /// item's lease when a third of it has passed, so no other worker takes an item that is still being worked on
    /// (`ManifestError.leaseLost` if one already did: this worker must stop). Journal shards hold no leases.
    public func checkInterrupt() throws {
        if let sig = Interrupts.received {
            throw StageError.interrupted(stage: runner.stage, signal: sig, resume: Interrupts.resumeCommand())
        }
        guard !runner.options.journal else { return }
        let now = Date().timeIntervalSince1970
        if now - lease.renewed >= runner.options.lease / 3 {
            try runner.db.renew(claim, lease: runner.options.lease)
            lease.renewed = now
        }
    }

    /// Metrics of the item's steps before the checkpoint it resumed from, which the resumed process has again from that
    /// checkpoint: a journal shard recorded them in memory only (they are journaled with the item when it finishes), so it
    /// records them again; the manifest already holds them.
    public func restoreMetrics(_ metrics: [(name: String, step: Int, value: Double)]) {
        guard runner.options.journal else { return }
        runner.journalMetrics += metrics.map { ShardJournal.Metric(name: $0.name, step: $0.step, value: $0.value) }
    }

    /// `key` as one path component: [A-Za-z0-9._-] kept, every other byte as %XX (so "." and ".." cannot occur alone:
    /// they become "%2E" and "%2E%2E").
    static func pathComponent(_ key: String) -> String {
        if key == "." || key == ".." { return String(repeating: "%2E", count: key.count) }
        var out = ""
        for byte in key.utf8 {
            let c = Character(Unicode.Scalar(byte))
            if byte < 0x80 && (c.isLetter || c.isNumber || c == "." || c == "_" || c == "-") {
                out.append(c)
            } else {
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }
}

extension StageRunner {
    /// The folder of the item checkpoints of stage run `stageRun` with `fingerprint`.
    func itemCheckpointRoot(stageRun: Int64, fingerprint: String) -> URL {
        layout.artifacts(stage).appendingPathComponent("checkpoints", isDirectory: true)
            .appendingPathComponent("\(stageRun)-\(fingerprint.prefix(16))", isDirectory: true)
    }

    /// Deletes the item checkpoints of every other stage run of this stage (a finished, forced-over or reconfigured run's),
    /// which no later run resumes from; returns how many folders went. Only an unsharded single-machine run calls this
    /// (shards of the stage run may be working beside it; they never hold another stage run's folder).
    func removeStaleItemCheckpoints(stageRun: Int64, fingerprint: String) throws -> Int {
        let current = itemCheckpointRoot(stageRun: stageRun, fingerprint: fingerprint)
        let root = current.deletingLastPathComponent()
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: root.path) else { return 0 }
        var removed = 0
        for name in names where name != current.lastPathComponent && !name.hasPrefix(".") {
            try FileManager.default.removeItem(at: root.appendingPathComponent(name, isDirectory: true))
            removed += 1
        }
        return removed
    }
}

/// When a long item last renewed its lease (a reference, so `ItemContext` stays a value passed to the body).
final class LeaseRenewal {
    var renewed = Date().timeIntervalSince1970
}
