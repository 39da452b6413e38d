import Foundation
import Manifest

/// One claimed item, handed to the stage's item body.
public struct ItemContext {
    public let key: String
    public let claim: Claim
    public let stageRun: Int64
    public let runner: StageRunner
    /// The stage run's fingerprint (config, code version, inputs): scopes the item's checkpoints (`LongItems.swift`).
    public let fingerprint: String
    /// When the lease was last renewed (a long item renews it from `checkInterrupt`).
    let lease = LeaseRenewal()

    init(key: String, claim: Claim, stageRun: Int64, runner: StageRunner, fingerprint: String) {
        self.key = key; self.claim = claim; self.stageRun = stageRun; self.runner = runner; self.fingerprint = fingerprint
    }

    /// Writes `artifacts/<stage>/<name>` atomically; return the results from the body to record them
    /// in the same transaction that marks the item done.
    public func write(_ data: Data, name: String, kind: String) throws -> NewArtifact {
        try runner.writeArtifact(data, name: name, kind: kind)
    }

    /// Records a metric of the stage run (NaN allowed): at once in the manifest, or, in a journal shard (which never
    /// writes the manifest), in its journal with the item, to be merged with it.
    public func metric(_ name: String, step: Int = 0, _ value: Double) throws {
        if runner.options.journal {
            runner.journalMetrics.append(ShardJournal.Metric(name: name, step: step, value: value))
        } else {
            try runner.db.recordMetric(stageRun: stageRun, name: name, step: step, value: value)
        }
    }
}

extension StageRunner {
    /// The per-item lifecycle:
    /// 1. `plan` (skip when up to date: returns with `summary.upToDate`);
    /// 2. check every input against its record (`.inputUnverified` names the file);
    /// 3. delete AtomicWrite temporaries left by dead writers under `artifacts/<stage>/`;
    /// 4. add `keys` as items (insert-or-ignore: a resumed run keeps its done items);
    /// 5. claim one item at a time (this shard's only), run `body`, `complete` it with the returned
    ///    artifacts (one transaction); a throwing body marks the item failed and the loop continues;
    ///    items left `running` by a dead worker are reclaimed at once (this process holds the scope's
///    exclusive lock), and any that still appear are waited for until their lease expires;
    /// 6. on SIGINT/SIGTERM stop after the item in flight (or inside a long item whose `ItemContext.checkInterrupt`
    ///    throws once its state is saved: that item goes back to pending), mark the stage run interrupted and throw
    ///    `.interrupted` with the resume command; otherwise mark it done (or failed) once no item of any
    ///    shard is left.
    /// `reduce`: keys among `keys` that need every other item finished (bench's results): whichever worker finds
    /// no other item pending or running claims them, whatever its shard (`ManifestDB.claimReduce`), so a shard that
    /// finishes early leaves them to the last one. A reduce item a killed shard left running goes back to pending
    /// in the next unsharded run (a shard's lock does not prove another shard's holder is gone).
    /// Journal mode (docs/SHARDING.md) replaces this loop: `--plan-shards N` plans (`planShards`), `--shard k/N --journal`
    /// runs a shard into its journal (`runJournaled`), `--merge-shards` merges the journals (`mergeShards`).
    /// Returns the summary (also kept in `summary`); the caller maps `failed > 0` to exit code 1.
    @discardableResult
    public func runItems(keys: [String], inputs: [ArtifactRecord], reduce: Set<String> = [],
                         body: (ItemContext) throws -> [NewArtifact]) throws -> StageSummary {
        precondition(reduce.isSubset(of: keys), "runItems: reduce keys \(reduce.subtracting(keys).sorted()) are not among the keys")
        // Journal mode (docs/SHARDING.md): plan once, run shards into their journals, merge.
        if let n = options.planShards { return try planShards(count: n, keys: keys, inputs: inputs) }
        if options.mergeShards { return try mergeShards() }
        if options.journal { return try runJournaled(keys: keys, inputs: inputs, reduce: reduce, body: body) }
        Interrupts.install()
        let plan = try self.plan(inputs: inputs, keys: keys)
        guard case let .run(stageRun, _, _) = plan else {
            if case let .skip(id) = plan { summary.skipped = try db.counts(stageRun: id).done }
            if case .dryRun = plan { summary.dryRun = true } else { summary.upToDate = true }
            summary.seconds = elapsed
            return summary
        }
        let bad = verify(inputs)
        if !bad.isEmpty {
            try db.setStatus(stageRun: stageRun, .failed, error: "input failed verification: \(bad[0])")
            throw StageError.inputUnverified(stage: stage, upstream: definition.upstream.joined(separator: ","),
                                             problem: bad[0] + (bad.count > 1 ? " (+\(bad.count - 1) more)" : "")
                                                 + "; hint: rerun the upstream stage, which redoes outputs that fail verification")
        }
        let removed = try AtomicWrite.removeLeftoverTemporaries(under: layout.artifacts(stage))
        if removed > 0 { log.info("removed \(removed) leftover temporary file(s) of a crashed run") }
        let added = try db.addItems(stageRun: stageRun, keys: keys)
        let fp = fingerprint(inputs: inputs)
        if shard == nil, try removeStaleItemCheckpoints(stageRun: stageRun, fingerprint: fp) > 0 {
            log.info("removed the item checkpoints of earlier stage runs")
        }
        // We hold this scope's exclusive lock, so items still `running` in it belong to a dead worker:
        // hand them back now (fencing the dead holder) rather than waiting out their leases.
        let orphans = try db.reclaimOrphans(stageRun: stageRun, shard: shard, excluding: shard == nil ? [] : reduce)
        if orphans > 0 { log.info("reclaimed \(orphans) item(s) left running by a stopped worker") }
        // This worker's items: its shard's, but never a reduce item (claimed by whoever finishes last).
        let mapInScope = { (key: String) in !reduce.contains(key) && (self.shard?.contains(key) ?? true) }
        let mine = try db.items(stageRun: stageRun).filter { reduce.contains($0.key) || mapInScope($0.key) }
        summary.skipped = mine.filter { $0.status == .done }.count
        let todo = mine.filter { $0.status != .done && $0.status != .failed }.count
        log.info("\(todo) item(s) to do, \(summary.skipped) already done" + (added > 0 ? " (\(added) new)" : "")
                 + (shard.map { " in shard \($0)" } ?? ""))
        let progress = ProgressReporter(total: todo, log: log, interval: options.progressInterval)
        var firstError: String?
        var announcedWait = false
        while Interrupts.received == nil {
            var claims = try db.claim(stageRun: stageRun, owner: owner, limit: 1, lease: options.lease, shard: shard, excluding: reduce)
            if claims.isEmpty, let r = try db.claimReduce(stageRun: stageRun, owner: owner, lease: options.lease, keys: reduce) {
                claims = [r]
            }
            if claims.isEmpty {
                // Items still `running` in our scope belong to a dead worker (we hold the lock for this
                // scope); they become claimable when their lease expires.
                let stale = try db.items(stageRun: stageRun, status: .running).filter { mapInScope($0.key) }
                guard let soonest = stale.compactMap(\.leaseExpiry).min() else { break }
                if !announcedWait {
                    log.info("waiting for \(stale.count) item(s) leased by a stopped worker (lease ends in "
                             + ProgressReporter.duration(max(0, soonest - Date().timeIntervalSince1970)) + ")")
                    announcedWait = true
                }
                usleep(50_000)
                continue
            }
            for claim in claims {
                let context = ItemContext(key: claim.key, claim: claim, stageRun: stageRun, runner: self, fingerprint: fp)
                do {
                    let artifacts = try body(context)
                    try db.complete(claim, artifacts: artifacts)
                    summary.done += 1
                } catch let error as ManifestError {
                    if case .leaseLost = error {
                        log.warn("item '\(claim.key)': \(error)")
                        continue
                    }
                    throw error
                } catch let error as StageError where error.isInterrupted {
                    // A long item stopped between its steps (`ItemContext.checkInterrupt`), its state saved: it goes back
                    // to pending, not failed, and the next run resumes it.
                    try db.release([claim])
                    log.info("item '\(claim.key)' stopped by the signal; it resumes in the next run")
                    break
                } catch {
                    let message = "\(error)"
                    try db.fail(claim, error: message)
                    summary.failed += 1
                    firstError = firstError ?? "'\(claim.key)': \(message)"
                    log.warn("item '\(claim.key)' failed: \(message)")
                }
                progress.advance()
            }
        }
        progress.finish()
        summary.seconds = elapsed
        if let sig = Interrupts.received {
            let resume = Interrupts.resumeCommand()
            try db.setStatus(stageRun: stageRun, .interrupted, error: "signal \(sig)")
            try db.event(stageRun: stageRun, level: "warn", message: "interrupted by signal \(sig); resume: \(resume)")
            throw StageError.interrupted(stage: stage, signal: sig, resume: resume)
        }
        let counts = try db.counts(stageRun: stageRun)
        if counts.pending == 0 && counts.running == 0 {
            try db.setStatus(stageRun: stageRun, counts.failed > 0 ? .failed : .done,
                             error: counts.failed > 0 ? "\(counts.failed) item(s) failed" : nil)
        } else {
            log.info("shard finished; \(counts.pending + counts.running) item(s) remain for other shards")
        }
        if summary.failed > 0 {
            throw StageError.itemsFailed(stage: stage, failed: summary.failed, firstError: firstError ?? "?")
        }
        return summary
    }
}
