import Foundation
import Manifest

/// Journal mode's two steps around the shards (docs/SHARDING.md), both run once, on one host, with the stage's
/// exclusive lock and the manifest open for writing:
/// - `--plan-shards N` plans the stage run (`plan`: new, resume or up to date), adds its items and writes the plan,
///   a snapshot of the manifest (`shards/<stage>/plan.sqlite`) that the shards read instead of the manifest;
/// - `--merge-shards` folds the shards' journals into the manifest (`ManifestDB.mergeShardJournals`).
extension StageRunner {
    /// Opens the plan a journal shard reads; a missing one names the command that writes it.
    static func openPlan(_ url: URL, stage: String) throws -> ManifestDB {
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw StageError.missingFile(path: url.path, hint: "plan the shards first: `\(StageCommand.of(stage)) --plan-shards N` "
                                         + "with the same --config and --run-dir, on one host, before any shard starts")
        }
        return try ManifestDB(path: url.path, mode: .snapshot)
    }

    /// `--plan-shards N`: decides the stage run as an unsharded run would (a new run, resuming one, retrying its failed
    /// items, or up to date), checks the inputs, adds `keys` as items, hands back items a dead worker left running (we
    /// hold the stage's exclusive lock), deletes journals of other stage runs (they can never merge into this one), and
    /// writes the plan. Runs no item.
    func planShards(count: Int, keys: [String], inputs: [ArtifactRecord]) throws -> StageSummary {
        let plan = try self.plan(inputs: inputs, keys: keys)
        let stageRun: Int64
        switch plan {
        case .dryRun:
            summary.dryRun = true
            summary.seconds = elapsed
            return summary
        case let .skip(id):
            // Still write the plan: shards started from it find every item done and do nothing.
            summary.upToDate = true
            stageRun = id
        case let .run(id, _, _):
            stageRun = id
            let bad = verify(inputs)
            if !bad.isEmpty {
                try db.setStatus(stageRun: id, .failed, error: "input failed verification: \(bad[0])")
                throw StageError.inputUnverified(stage: stage, upstream: definition.upstream.joined(separator: ","),
                                                 problem: bad[0] + "; hint: rerun the upstream stage")
            }
            try db.addItems(stageRun: id, keys: keys)
            let orphans = try db.reclaimOrphans(stageRun: id)
            if orphans > 0 { log.info("reclaimed \(orphans) item(s) left running by a stopped worker") }
        }
        let dir = layout.shards(stage)
        try removeJournals(under: dir, notOf: stageRun)
        try AtomicWrite.removeLeftoverTemporaries(under: dir)
        let c = try db.counts(stageRun: stageRun)
        if case .run = plan {
            try db.event(stageRun: stageRun, level: "info", message: "shard plan: \(count) journal shard(s), \(c.pending) item(s) pending")
        }
        try db.writeSnapshot(to: layout.shardPlan(stage))
        let command = StageCommand.of(stage)
        log.info("planned stage run \(stageRun) for \(count) journal shard(s): \(c.pending) item(s) to do, \(c.done) done; "
                 + "run `\(command) --shard k/\(count) --journal` for k = 0...\(count - 1) (on any hosts sharing this run "
                 + "directory), then `\(command) --merge-shards`")
        summary.skipped = c.done
        summary.seconds = elapsed
        return summary
    }

    /// Deletes the journals under `dir` that belong to another stage run than `stageRun` (or whose header cannot be
    /// read), logging each: their items can never merge into `stageRun`.
    private func removeJournals(under dir: URL, notOf stageRun: Int64) throws {
        for url in journalFiles(in: dir) {
            let owner = try? ShardJournal(path: url.path).header.stageRun
            guard owner != stageRun else { continue }
            log.info("removing shard journal \(url.path) of " + (owner.map { "stage run \($0)" } ?? "an unreadable header")
                     + ": it cannot merge into the planned stage run \(stageRun)")
            for path in [url.path, url.path + "-journal"] where unlink(path) != 0 && errno != ENOENT {
                throw StageError.io(path: path, operation: "remove an old shard journal", errno: errno)
            }
        }
    }

    /// The journals (`<k>-of-<N>.sqlite`) in `dir`, by shard count then index.
    func journalFiles(in dir: URL) -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.compactMap { name in ShardJournal.shard(fileName: name).map { (name, $0) } }
            .sorted { ($0.1.count, $0.1.index) < ($1.1.count, $1.1.index) }
            .map { dir.appendingPathComponent($0.0) }
    }

    /// `--merge-shards`: folds every journal under `shards/<stage>/` into the stage's newest stage run (the planned
    /// one), in one transaction; merging again changes nothing. Journals of unfinished shards give their finished
    /// items; the others stay pending until that shard reruns and the journals are merged again. Exit 1 when some item
    /// of the stage run failed, as an unsharded run.
    func mergeShards() throws -> StageSummary {
        let command = StageCommand.of(stage)
        let dir = layout.shards(stage)
        guard let run = try db.stageRuns(stage: stage).first else {
            throw StageError.missingFile(path: layout.shardPlan(stage).path, hint: "no stage run of \(stage) was planned in this run "
                                         + "directory: run `\(command) --plan-shards N`, then the shards, then merge")
        }
        let journals = journalFiles(in: dir)
        guard !journals.isEmpty else {
            throw StageError.missingFile(path: dir.path, hint: "no shard journal (<k>-of-<N>.sqlite) in it: run "
                                         + "`\(command) --shard k/N --journal` for each shard first")
        }
        let report = try db.mergeShardJournals(journals, stageRun: run.id, runDirectory: layout.root)
        summary.done = report.merged
        summary.skipped = report.alreadyDone
        summary.seconds = elapsed
        log.info("merged \(journals.count) shard journal(s) into stage run \(run.id): \(report.merged) item(s) done, "
                 + "\(report.failed) failed, \(report.alreadyDone) already merged")
        for path in report.incomplete {
            let shard = ShardJournal.shard(fileName: (path as NSString).lastPathComponent).map(\.description) ?? "k/N"
            log.warn("\(path) is unfinished (its shard was stopped or still runs): its finished items were merged and its other "
                     + "items stay pending; rerun `\(command) --shard \(shard) --journal`, then merge again")
        }
        let c = report.counts
        if c.pending + c.running > 0 {
            log.info("\(c.pending + c.running) item(s) of stage run \(run.id) still pending: rerun the shards that did not finish "
                     + "(reduce items: run `\(command)` without --shard), then merge again")
        } else {
            log.info("stage run \(run.id) \(c.failed > 0 ? "failed" : "done")")
        }
        if c.failed > 0 {
            let first = try db.items(stageRun: run.id, status: .failed).first
            summary.failed = c.failed
            throw StageError.itemsFailed(stage: stage, failed: c.failed,
                                         firstError: first.map { "'\($0.key)': \($0.error ?? "?")" } ?? "?")
        }
        return summary
    }
}
