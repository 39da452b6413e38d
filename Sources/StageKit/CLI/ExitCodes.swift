import ErrorKinds

/// The one exit-code table of every command (stages, `inspect`, `sample`, `worldgen`, the tools), sysexits-style:
///
/// | code | meaning |
/// |------|---------|
/// | 0    | ok: stage finished or skipped as up to date |
/// | 1    | stage finished but some items failed (listed in the log; rerun retries them) |
/// | 64   | usage: bad flags (swift-argument-parser's validation), or flags that disagree (a `--config` of another run name than the run directory's) |
/// | 65   | data error: bad config, corrupt or newer manifest, an input or output failing verification; in journal mode a shard or a shard journal of another plan, config or code (fingerprint), or a journaled artifact failing verification (docs/SHARDING.md) |
/// | 66   | no input: an upstream stage has not produced its outputs yet, a missing file; in journal mode no plan (`--plan-shards N` first) or no journal to merge |
/// | 70   | internal error: a bug (SQLite misuse, unexpected state) |
/// | 74   | I/O error: cannot write, disk full, permissions |
/// | 75   | busy: the same stage (or shard) already runs in this run directory; retry later |
/// | 130  | interrupted by SIGINT/SIGTERM; the log prints the command that resumes |
public enum StageExitCode: Int32, Sendable, CaseIterable {
    case ok = 0
    case itemsFailed = 1
    case usage = 64
    case dataError = 65
    case noInput = 66
    case internalError = 70
    case ioError = 74
    case busy = 75
    case interrupted = 130

    /// A few words for the row, as `help` lists it.
    public var meaning: String {
        switch self {
        case .ok: return "ok"
        case .itemsFailed: return "items failed"
        case .usage: return "usage"
        case .dataError: return "data error"
        case .noInput: return "missing input"
        case .internalError: return "internal"
        case .ioError: return "I/O"
        case .busy: return "busy"
        case .interrupted: return "interrupted"
        }
    }

    /// The table in one sentence for a stage's `--help`, from the cases themselves so no help text can drift from it:
    /// "Exit codes: 0 ok, 1 items failed, 64 usage, ...". `items: false` (a stage without items) leaves out 1.
    public static func help(items: Bool = true) -> String {
        "Exit codes: " + allCases.filter { items || $0 != .itemsFailed }.map { "\($0.rawValue) \($0.meaning)" }
            .joined(separator: ", ") + "."
    }

    /// The exit code for an error escaping a stage or command: `StageError` carries its own; every
    /// other library error says its `ErrorKind` (`ClassifiedError`), mapped here once; an error of
    /// no known kind is a bug (70).
    public static func of(_ error: Error) -> StageExitCode {
        switch error {
        case let e as StageError: return e.exitCode
        case let e as ClassifiedError: return StageExitCode(e.errorKind)
        default: return .internalError
        }
    }

    /// The row of the table for each kind of failure.
    public init(_ kind: ErrorKind) {
        switch kind {
        case .badData: self = .dataError
        case .missingInput: self = .noInput
        case .io: self = .ioError
        case .busy: self = .busy
        case .internalError: self = .internalError
        }
    }
}
