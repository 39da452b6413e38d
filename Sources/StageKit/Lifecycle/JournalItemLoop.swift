import Foundation
import Manifest

extension StageRunner {
    /// The per-item loop of a journal shard (`--shard k/N --journal`, docs/SHARDING.md). `db` is the plan (a read-only
    /// snapshot of the manifest, `shards/<stage>/plan.sqlite`); manifest.sqlite is never opened. Steps:
    /// 1. the planned stage run is the plan's newest of this stage; this shard's fingerprint (config, code version,
    ///    inputs) must be its fingerprint (`StageError.shardPlanMismatch`, exit 65, otherwise);
    /// 2. check every input against its record; delete this host's temporaries of dead writers;
    /// 3. open or create the journal `shards/<stage>/<k>-of-<N>.sqlite` (an existing one must belong to the planned
    ///    stage run: `ManifestError.journalMismatch`), remove its `complete` row;
    /// 4. run `body` on each planned item of this shard that neither the plan nor the journal has done, in item order,
    ///    recording it done (with its artifacts and `ItemContext.metric`s) or failed in the journal, one transaction per item;
    /// 5. on SIGINT/SIGTERM stop after the item in flight (or inside it, when a long item's `checkInterrupt` throws) and
    ///    throw `.interrupted` (the journal stays unfinished);
    ///    otherwise write the journal's `complete` row.
    /// No claims, leases or fencing: the journal has one writer, this shard (its lock file keeps a second process of
    /// the shard out on this host; across hosts the scheduler runs each shard once), so no clock is compared with
    /// another host's. Reduce items are left to a run without `--shard` after the merge.
    func runJournaled(keys: [String], inputs: [ArtifactRecord], reduce: Set<String>,
                      body: (ItemContext) throws -> [NewArtifact]) throws -> StageSummary {
        guard let shard else { preconditionFailure("--journal without --shard passed validation") }
        Interrupts.install()
        let planPath = layout.shardPlan(stage).path
        guard let planned = try db.stageRuns(stage: stage).first else {
            throw StageError.missingFile(path: planPath, hint: "the plan holds no stage run of \(stage): run "
                                         + "`\(StageCommand.of(stage)) --plan-shards N` first")
        }
        let fp = fingerprint(inputs: inputs)
        guard fp == planned.fingerprint else {
            throw StageError.shardPlanMismatch(stage: stage, plan: planPath, expected: planned.fingerprint, found: fp)
        }
        let journalURL = layout.shardJournal(stage, shard)
        if options.dryRun {
            print("\(stage): dry run: would run shard \(shard) of planned stage run \(planned.id) into \(journalURL.path)")
            summary.dryRun = true
            summary.seconds = elapsed
            return summary
        }
        let bad = verify(inputs)
        if !bad.isEmpty {
            throw StageError.inputUnverified(stage: stage, upstream: definition.upstream.joined(separator: ","),
                                             problem: bad[0] + "; hint: rerun the upstream stage, then plan the shards again")
        }
        let removed = try AtomicWrite.removeLeftoverTemporaries(under: layout.artifacts(stage))
        if removed > 0 { log.info("removed \(removed) leftover temporary file(s) of a crashed run") }
        let journal = try ShardJournal(path: journalURL.path, creating: ShardJournal.Header(
            stage: stage, stageRun: planned.id, fingerprint: fp, shard: shard))
        let journaledDone = Set(try journal.entries().filter(\.done).map(\.key))
        let planItems = try db.items(stageRun: planned.id)
        let planKeys = Set(planItems.map(\.key))
        let unplanned = keys.filter { !planKeys.contains($0) && shard.contains($0) }
        if !unplanned.isEmpty {
            log.warn("\(unplanned.count) item(s) of this shard are not in the plan (first '\(unplanned[0])') and are left out; "
                     + "plan the shards again to include them")
        }
        let mine = planItems.filter { !reduce.contains($0.key) && shard.contains($0.key) }
        let todo = mine.filter { $0.status != .done && !journaledDone.contains($0.key) }
        summary.skipped = mine.count - todo.count
        log.info("\(todo.count) item(s) to do, \(summary.skipped) already done in shard \(shard) (journal \(journalURL.path))")
        try journal.markRunning()
        let progress = ProgressReporter(total: todo.count, log: log, interval: options.progressInterval)
        var firstError: String?
        for item in todo where Interrupts.received == nil {
            let claim = Claim(item: item.id, key: item.key, token: item.token)
            journalMetrics = []
            do {
                let artifacts = try body(ItemContext(key: item.key, claim: claim, stageRun: planned.id, runner: self, fingerprint: fp))
                try journal.recordDone(key: item.key, item: item.id, artifacts: artifacts, metrics: journalMetrics)
                summary.done += 1
            } catch let error as ManifestError {
                throw error
            } catch let error as StageError where error.isInterrupted {
                // A long item stopped between its steps with its state saved: left undone in the journal, resumed next run.
                log.info("item '\(item.key)' stopped by the signal; it resumes in the next run of this shard")
                break
            } catch {
                let message = "\(error)"
                try journal.recordFailure(key: item.key, item: item.id, error: message)
                summary.failed += 1
                firstError = firstError ?? "'\(item.key)': \(message)"
                log.warn("item '\(item.key)' failed: \(message)")
            }
            progress.advance()
        }
        progress.finish()
        summary.seconds = elapsed
        if let sig = Interrupts.received {
            throw StageError.interrupted(stage: stage, signal: sig, resume: Interrupts.resumeCommand())
        }
        try journal.markComplete(done: mine.count - summary.failed, failed: summary.failed)
        log.info("shard \(shard) finished into \(journalURL.path); once every shard has finished, fold the journals into the "
                 + "manifest with `\(StageCommand.of(stage)) --merge-shards`")
        if summary.failed > 0 {
            throw StageError.itemsFailed(stage: stage, failed: summary.failed, firstError: firstError ?? "?")
        }
        return summary
    }
}
