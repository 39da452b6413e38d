import Foundation

/// What `mergeShardJournals` did.
public struct ShardMergeReport: Sendable, Equatable {
    /// Items marked done by this merge (their artifacts recorded).
    public var merged = 0
    /// Items marked failed by this merge.
    public var failed = 0
    /// Journaled items the manifest already had done (an earlier merge): left as they are.
    public var alreadyDone = 0
    /// Journals without their `complete` row (a shard killed or still running): their finished items were merged,
    /// their other items stay pending for a rerun of that shard.
    public var incomplete: [String] = []
    /// The stage run's item counts after the merge.
    public var counts = ItemCounts()
}

/// Folding shard journals (`ShardJournal`) into the manifest.
extension ManifestDB {
    /// Folds the journals at `journals` into stage run `stageRun` in ONE transaction, idempotently:
    /// 1. every journal must belong to `stageRun` (stage, stage run id, fingerprint), otherwise `.journalMismatch`
    ///    names the file, what differs and both values, and nothing is merged;
    /// 2. each journaled item the manifest has not done yet: a done one needs every artifact it records to exist under
    ///    `runDirectory` with the recorded size and SHA-256 (`.journalArtifactUnverified` otherwise, nothing merged; files
    ///    are hashed before the transaction, so the write lock is held only for the inserts); it becomes done with those
    ///    artifacts and its metrics (attempts added, lease cleared, fencing token bumped); a failed one becomes failed with its error;
    /// 3. items the manifest already has done are left alone, and an unchanged failure is not rewritten, so merging the
    ///    same journals again changes nothing (no event either);
    /// 4. once no item is pending or running, the stage run becomes done (failed when some item failed).
    /// Items no journal records (a shard killed before them, or that never ran) stay pending.
    /// The caller must know that no shard still writes these journals (StageKit takes each shard's lock).
    @discardableResult
    public func mergeShardJournals(_ journals: [URL], stageRun: Int64, runDirectory: URL) throws -> ShardMergeReport {
        let run = try self.stageRun(id: stageRun)
        var report = ShardMergeReport()
        var entries: [(journal: String, entry: ShardJournal.Entry)] = []
        for url in journals {
            let journal = try ShardJournal(path: url.path)
            let h = journal.header
            try ShardJournal.requireSame(h, ShardJournal.Header(stage: run.stage, stageRun: run.id, fingerprint: run.fingerprint,
                                                                shard: h.shard), path: url.path)
            if try !journal.isComplete() { report.incomplete.append(url.path) }
            entries += try journal.entries().map { (url.path, $0) }
        }
        let before = Dictionary(try items(stageRun: stageRun).map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        for (journal, e) in entries {
            guard let item = before[e.key] else {
                throw ManifestError.journalMismatch(path: journal, what: "item key", expected: "a key of stage run \(stageRun)",
                                                    found: "'\(e.key)'")
            }
            if e.done && item.status != .done { try verifyJournaled(e.artifacts, journal: journal, runDirectory: runDirectory) }
        }
        return try transaction {
            var changed = false
            var current = Dictionary(try items(stageRun: stageRun).map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
            for (_, e) in entries {
                guard let item = current[e.key] else { continue }
                if item.status == .done {
                    if e.done { report.alreadyDone += 1 }
                    continue
                }
                if e.done {
                    guard before[e.key]?.status != .done else { continue }   // its files were verified only if not done then
                    current[e.key] = ItemRecord(id: item.id, key: item.key, status: .done, attempts: item.attempts, leaseOwner: nil,
                                                leaseExpiry: nil, token: item.token, error: nil)
                    _ = try insertArtifacts(stageRun: stageRun, item: item.id, e.artifacts)
                    for m in e.metrics { try recordMetric(stageRun: stageRun, name: m.name, step: m.step, value: m.value) }
                    try db.run("""
                        UPDATE items SET status='done', attempts=attempts+?, lease_owner=NULL, lease_expiry=NULL, error=NULL,
                        token=token+1 WHERE id=?
                        """, [.int(Int64(e.attempts)), .int(item.id)])
                    report.merged += 1
                } else if item.status != .failed || item.error != e.error {
                    try db.run("""
                        UPDATE items SET status='failed', attempts=attempts+?, lease_owner=NULL, lease_expiry=NULL, error=?,
                        token=token+1 WHERE id=?
                        """, [.int(Int64(e.attempts)), .text(e.error ?? "failed in a shard"), .int(item.id)])
                    report.failed += 1
                }
                changed = true
            }
            report.counts = try counts(stageRun: stageRun)
            if changed {
                try event(stageRun: stageRun, level: "info", message: "merged \(journals.count) shard journal(s): \(report.merged) "
                          + "item(s) done, \(report.failed) failed, \(report.alreadyDone) already done"
                          + (report.incomplete.isEmpty ? "" : "; unfinished: " + report.incomplete.joined(separator: ", ")))
            }
            let c = report.counts
            if c.pending == 0 && c.running == 0 {
                let status: StageStatus = c.failed > 0 ? .failed : .done
                if run.status != status || changed {
                    try setStatus(stageRun: stageRun, status, error: c.failed > 0 ? "\(c.failed) item(s) failed" : nil)
                }
            }
            return report
        }
    }

    /// Throws `.journalArtifactUnverified` for the first of `artifacts` whose file under `runDirectory` is missing or
    /// differs from its recorded size or SHA-256.
    private func verifyJournaled(_ artifacts: [NewArtifact], journal: String, runDirectory: URL) throws {
        for a in artifacts {
            guard !a.relativePath.hasPrefix("/"), !a.relativePath.split(separator: "/").contains("..") else {
                throw ManifestError.journalArtifactUnverified(journal: journal, problem: "\(a.relativePath), which is not a "
                                                              + "path inside the run directory")
            }
            let url = runDirectory.appendingPathComponent(a.relativePath)
            var st = stat()
            guard stat(url.path, &st) == 0 else {
                throw ManifestError.journalArtifactUnverified(journal: journal, problem: "\(url.path), which is missing")
            }
            guard Int64(st.st_size) == a.bytes else {
                throw ManifestError.journalArtifactUnverified(journal: journal, problem: "\(url.path) of \(a.bytes) bytes, "
                                                              + "but the file has \(st.st_size)")
            }
            let actual = try SHA256.hexOfFile(url)
            guard actual == a.sha256 else {
                throw ManifestError.journalArtifactUnverified(journal: journal, problem: "\(url.path) with sha256 \(a.sha256), "
                                                              + "but the file's is \(actual)")
            }
        }
    }
}
