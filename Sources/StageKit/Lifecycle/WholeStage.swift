import Foundation
import Manifest

/// What a whole-stage body (a training loop) sees: its stage run, whether it resumes an interrupted
/// one, and the checkpoint store of that stage run.
public struct StageContext {
    public let runner: StageRunner
    public let stageRun: Int64
    public let resumed: Bool
    public var checkpoints: CheckpointStore { CheckpointStore(runner: runner, stageRun: stageRun) }

    /// Call between steps: throws `.interrupted` (with the resume command) once SIGINT/SIGTERM arrived,
    /// after the caller has saved what it must (e.g. a checkpoint).
    public func checkInterrupt() throws {
        if let sig = Interrupts.received {
            throw StageError.interrupted(stage: runner.stage, signal: sig, resume: Interrupts.resumeCommand())
        }
    }

    /// Records a metric of this stage run (e.g. the loss at a step).
    public func metric(_ name: String, step: Int, _ value: Double) throws {
        try runner.db.recordMetric(stageRun: stageRun, name: name, step: step, value: value)
    }
}

extension StageRunner {
    /// The whole-stage lifecycle (training stages, no items):
    /// 1. `plan` (skip when up to date); 2. verify inputs; 3. remove leftover temporaries;
    /// 4. run `body`, which resumes from `context.checkpoints.latest()` if any, checkpoints every K
    ///    steps and returns its final outputs; 5. record them and mark the stage run done.
    /// A body throwing `.interrupted` marks the run interrupted; any other error marks it failed.
    /// `--shard` is refused (`StageError.shardUnsupported`).
    @discardableResult
    public func runWhole(inputs: [ArtifactRecord], body: (StageContext) throws -> [NewArtifact]) throws -> StageSummary {
        if options.shard != nil || options.planShards != nil || options.mergeShards { throw StageError.shardUnsupported(stage: stage) }
        Interrupts.install()
        let plan = try self.plan(inputs: inputs)
        guard case let .run(stageRun, _, resumed) = plan else {
            if case .dryRun = plan { summary.dryRun = true; summary.seconds = elapsed; return summary }
            summary.upToDate = true
            summary.skipped = 1
            summary.seconds = elapsed
            return summary
        }
        let bad = verify(inputs)
        if !bad.isEmpty {
            try db.setStatus(stageRun: stageRun, .failed, error: "input failed verification: \(bad[0])")
            throw StageError.inputUnverified(stage: stage, upstream: definition.upstream.joined(separator: ","),
                                             problem: bad[0] + "; hint: rerun the upstream stage")
        }
        try AtomicWrite.removeLeftoverTemporaries(under: layout.artifacts(stage))
        let outputs: [NewArtifact]
        do {
            outputs = try body(StageContext(runner: self, stageRun: stageRun, resumed: resumed))
        } catch let e as StageError {
            if case let .interrupted(_, sig, resume) = e {
                try db.setStatus(stageRun: stageRun, .interrupted, error: "signal \(sig)")
                try db.event(stageRun: stageRun, level: "warn", message: "interrupted by signal \(sig); resume: \(resume)")
            } else {
                try db.setStatus(stageRun: stageRun, .failed, error: "\(e)")
            }
            summary.seconds = elapsed
            throw e
        } catch {
            try db.setStatus(stageRun: stageRun, .failed, error: "\(error)")
            summary.failed = 1
            summary.seconds = elapsed
            throw error
        }
        try db.transaction {
            _ = try db.recordArtifacts(stageRun: stageRun, outputs)
            try db.setStatus(stageRun: stageRun, .done, error: nil)
        }
        summary.done = 1
        summary.seconds = elapsed
        return summary
    }
}

/// Checkpoints of one stage run, kept generic: a directory
/// `artifacts/<stage>/checkpoints/step-<8 digits>/` whose files are recorded as artifacts of kind
/// `checkpoint`. What goes in the files (model, optimizer, RNG state) is the caller's business.
public struct CheckpointStore {
    public static let kind = "checkpoint"
    public let runner: StageRunner
    public let stageRun: Int64

    /// The directory for `step` (not created).
    public func directory(step: Int) -> URL {
        runner.layout.artifacts(runner.stage)
            .appendingPathComponent("checkpoints/step-" + String(format: "%08d", step), isDirectory: true)
    }

    /// True every `every` steps (`step > 0 && step % every == 0`); `every <= 0` never.
    public static func isDue(step: Int, every: Int) -> Bool { every > 0 && step > 0 && step % every == 0 }

    /// Records `files` (already written atomically inside `directory(step:)`) as the checkpoint of `step`.
    @discardableResult
    public func record(step: Int, files: [URL]) throws -> [Int64] {
        let dir = directory(step: step).standardizedFileURL.path + "/"
        let artifacts = try files.map { url -> NewArtifact in
            precondition(url.standardizedFileURL.path.hasPrefix(dir), "checkpoint file \(url.path) is not inside \(dir)")
            guard let data = FileManager.default.contents(atPath: url.path) else {
                throw StageError.missingFile(path: url.path, hint: "write the checkpoint files before recording them")
            }
            return NewArtifact(kind: Self.kind, relativePath: runner.layout.relative(url), sha256: SHA256.hex(data),
                               bytes: Int64(data.count))
        }
        return try runner.db.recordArtifacts(stageRun: stageRun, artifacts)
    }

    /// Deletes every checkpoint of this stage run but the newest `n` steps: first their manifest
    /// records (one transaction), then their directories, so a crash in between leaves only
    /// unrecorded files, never a record without its file.
    public func prune(keepingNewest n: Int) throws {
        precondition(n >= 1, "CheckpointStore.prune: keep at least one checkpoint")
        let old = try steps().sorted(by: >).dropFirst(n)
        guard !old.isEmpty else { return }
        let all = try runner.db.artifacts(stageRun: stageRun).filter { $0.kind == Self.kind }
        let doomed = all.filter { a in Self.step(of: a).map(old.contains) == true }
        let kept = try runner.db.forgetArtifacts(ids: doomed.map(\.id))
        let keptSteps = Set(doomed.filter { kept.contains($0.id) }.compactMap(Self.step(of:)))
        for step in old where !keptSteps.contains(step) {
            let dir = directory(step: step)
            if FileManager.default.fileExists(atPath: dir.path) { try FileManager.default.removeItem(at: dir) }
        }
    }

    /// Every step with a recorded checkpoint (verified or not).
    public func steps() throws -> Set<Int> {
        Set(try runner.db.artifacts(stageRun: stageRun).filter { $0.kind == Self.kind }.compactMap(Self.step(of:)))
    }

    /// The step of a checkpoint artifact, from its `step-<digits>` directory.
    static func step(of a: ArtifactRecord) -> Int? {
        let parts = a.relativePath.split(separator: "/")
        guard let dir = parts.dropLast().last, dir.hasPrefix("step-") else { return nil }
        return Int(dir.dropFirst(5))
    }

    /// The newest recorded step whose files all verify, with its files; nil when none.
    /// A checkpoint with a missing or edited file is passed over for an older one (and logged).
    public func latest() throws -> (step: Int, files: [ArtifactRecord])? {
        var bySteps: [Int: [ArtifactRecord]] = [:]
        for a in try runner.db.artifacts(stageRun: stageRun) where a.kind == Self.kind {
            guard let step = Self.step(of: a) else { continue }
            bySteps[step, default: []].append(a)
        }
        for step in bySteps.keys.sorted(by: >) {
            let problems = runner.verify(bySteps[step]!)
            if problems.isEmpty { return (step, bySteps[step]!) }
            runner.log.warn("checkpoint at step \(step) fails verification (\(problems[0])); trying an older one")
        }
        return nil
    }
}
