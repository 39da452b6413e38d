/// Failures of the stage machinery itself (config and manifest problems keep their own types).
/// Each `description` names the file or stage and ends with a hint.
public enum StageError: Error, CustomStringConvertible, Sendable, Equatable {
    /// Another process holds the stage's (or shard's) lock.
    case busy(stage: String, lock: String)
    /// Upstream stages that never ran in this run directory (every one the stage declares that is missing).
    case upstreamMissing(stage: String, upstreams: [String])
    /// An input artifact does not match its record (missing, edited, truncated).
    case inputUnverified(stage: String, upstream: String, problem: String)
    /// An upstream stage's newest finished run is out of date with its own upstream (`ManifestDB.staleness`).
    case staleUpstream(stage: String, upstream: String, because: String)
    /// A file the stage needs could not be found or read.
    case missingFile(path: String, hint: String)
    /// The run was stopped by a signal; `resume` is the command that continues it.
    case interrupted(stage: String, signal: Int32, resume: String)
    /// The stage finished with failed items.
    case itemsFailed(stage: String, failed: Int, firstError: String)
    /// `--shard` given to a stage that has no items to split.
    case shardUnsupported(stage: String)
    /// Journal mode: this shard's fingerprint (config, code version, inputs) is not the planned stage run's.
    case shardPlanMismatch(stage: String, plan: String, expected: String, found: String)
    /// A lock or run directory could not be created.
    case io(path: String, operation: String, errno: Int32)
    /// A training step produced a non-finite value; nothing of that step was kept.
    case diverged(stage: String, step: Int, what: String)
    /// `--config`'s `[run].name` is not the name of the run directory's first run (another pipeline's directory).
    case runNameMismatch(stage: String, config: String, name: String, runDirectory: String, recorded: String)

    /// Whether this is `.interrupted` (a signal stopped the run, its state saved).
    public var isInterrupted: Bool { if case .interrupted = self { return true } else { return false } }

    public var exitCode: StageExitCode {
        switch self {
        case .busy: return .busy
        case .upstreamMissing, .missingFile, .staleUpstream: return .noInput
        case .inputUnverified, .diverged, .shardPlanMismatch: return .dataError
        case .interrupted: return .interrupted
        case .itemsFailed: return .itemsFailed
        case .io: return .ioError
        case .shardUnsupported, .runNameMismatch: return .usage
        }
    }

    public var description: String {
        switch self {
        case let .busy(stage, lock):
            return "\(stage): busy: another process runs this stage here (lock \(lock) is held); "
                + "hint: wait for it to finish, or split the work with --shard k/N in every process"
        case let .upstreamMissing(stage, upstreams):
            let names = upstreams.map { "'\($0)'" }.joined(separator: ", ")
            return "\(stage): no run of upstream stage\(upstreams.count == 1 ? "" : "s") \(names) in this run directory; "
                + "hint: run \(StageCommand.list(upstreams)) first with the same --config and --run-dir "
                + "(`make stage STAGE=<stage>` runs one; `make run` the whole pipeline in order)"
        case let .inputUnverified(stage, upstream, problem):
            return "\(stage): input from '\(upstream)' failed verification: \(problem)"
        case let .staleUpstream(stage, upstream, because):
            return "\(stage): upstream stage '\(upstream)' is stale (\(because)); hint: rerun `\(StageCommand.of(upstream))` first "
                + "with the same --config and --run-dir, or the whole pipeline with `make run`"
        case let .missingFile(path, hint):
            return "\(path): missing or unreadable; hint: \(hint)"
        case let .interrupted(stage, signal, resume):
            return "\(stage): interrupted by signal \(signal); finished items are kept; resume with: \(resume)"
        case let .itemsFailed(stage, failed, firstError):
            return "\(stage): \(failed) item(s) failed (first: \(firstError)); hint: fix the cause and rerun the same "
                + "command, which retries only the failed items"
        case let .shardUnsupported(stage):
            return "\(stage): --shard applies to per-item stages only; hint: run this stage without --shard"
        case let .shardPlanMismatch(stage, plan, expected, found):
            return "\(stage): this shard's fingerprint \(found) is not the one planned in \(plan) (\(expected)): its config, code "
                + "version or inputs differ; nothing was run; hint: run it with the planned --config and build, or plan again "
                + "with `\(StageCommand.of(stage)) --plan-shards N` (which starts a stage run for the current config)"
        case let .diverged(stage, step, what):
            return "\(stage): training diverged at step \(step): \(what) is not finite; the last checkpoint is kept and nothing "
                + "is recorded as done; hint: lower lr or raise warmup, then rerun (it resumes from that checkpoint)"
        case let .runNameMismatch(stage, config, name, runDirectory, recorded):
            return "\(stage): --config \(config) is run '\(name)' but the run directory \(runDirectory) holds run '\(recorded)'; "
                + "hint: pass the run directory of '\(name)' (--run-dir runs/\(name), the default), or the config of '\(recorded)'"
        case let .io(path, operation, code):
            return "\(path): \(operation) failed (errno \(code)); hint: check that the run directory is writable"
        }
    }
}
