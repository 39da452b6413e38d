import ArgumentParser
import Foundation
import Manifest

/// `--shard k/N`: this process takes the items whose stable key hash mod N is k.
public struct ShardSpec: Sendable, Equatable, ExpressibleByArgument, CustomStringConvertible {
    public let index: Int
    public let count: Int

    public init?(argument: String) {
        let parts = argument.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let k = Int(parts[0]), let n = Int(parts[1]), n >= 1, k >= 0, k < n else { return nil }
        index = k; count = n
    }

    public var shard: Shard { Shard(index: index, count: count) }
    public var description: String { "\(index)/\(count)" }
}

/// The flags every stage executable shares. Argument checks happen in `validate()` (exit 64).
public struct CommonOptions: ParsableArguments, Sendable {
    @Option(help: "Run directory holding manifest.sqlite and artifacts/ (default: runs/<[run].name>).")
    public var runDir: String?

    @Option(help: "Pipeline config (TOML; this stage's keys are listed above).")
    public var config: String = "pipelines/default.toml"

    @Option(help: "Override [run].seed (enters every stage's fingerprint).")
    public var seed: Int?

    @Option(help: "Override [run].threads (does not change results).")
    public var threads: Int?

    /// Shown only in the help of stages that split their items (`StageDefinition.help(shardable:)`); the others refuse it.
    @Option(help: ArgumentHelp("Take only shard k of N of the items (k/N, 0 <= k < N); shards may run concurrently.", visibility: .hidden))
    public var shard: ShardSpec?

    /// Journal mode (docs/SHARDING.md), shown with `--shard` in the help of the stages that split their items.
    @Option(help: ArgumentHelp("Plan the stage run for N journal shards (shards/<stage>/plan.sqlite), then stop.", visibility: .hidden))
    public var planShards: Int?

    @Flag(help: ArgumentHelp("With --shard k/N: record items in shards/<stage>/k-of-N.sqlite, never writing manifest.sqlite.",
                             visibility: .hidden))
    public var journal = false

    @Flag(help: ArgumentHelp("Fold the shard journals of the planned stage run into manifest.sqlite (one transaction).",
                             visibility: .hidden))
    public var mergeShards = false

    @Flag(help: "Rerun the stage even if an identical finished run exists.")
    public var force = false

    @Flag(help: "Print what the stage would do and why (new run, append, resume, up to date), then stop without running.")
    public var dryRun = false

    @Option(help: ArgumentHelp(
        "Use this code version in the fingerprint instead of the build's (src. + a hash of the sources this stage links).",
        discussion: "A stage reruns when its code changes. To resume or keep outputs made by an earlier build (say a long "
            + "training, after a change that does not affect it), pass the old code version its rerun line names."))
    public var codeVersion: String?

    @Flag(help: ArgumentHelp("Print the effective config ([run] and this stage's section: defaults, --config and --set, "
                             + "each value's origin), then stop without running."))
    public var showConfig = false

    @Option(help: "Log level: debug, info, warn, error.")
    public var logLevel: LogLevel = .info

    @Option(help: "Log lines on stderr: text (<ISO-8601 time> <stage> <level>: <message>) or json (one object a line, for log shippers).")
    public var logFormat: LogFormat = .text

    @Option(name: .customLong("set"), help: "Override a key of this stage's config section (key=value; repeatable).")
    public var overrides: [String] = []

    @Option(help: ArgumentHelp("Item lease in seconds (a dead worker's items return after it).", visibility: .hidden))
    public var lease: Double = 30

    @Option(help: ArgumentHelp("Most seconds between progress lines when stderr is not a terminal.", visibility: .hidden))
    public var progressInterval: Double = 10

    public init() {}

    public func validate() throws {
        if let s = seed, s < 0 || s > Int(UInt32.max) { throw ValidationError("--seed must be in 0...\(UInt32.max), got \(s)") }
        if let t = threads, t < 1 || t > 256 { throw ValidationError("--threads must be in 1...256, got \(t)") }
        if force && shard != nil {
            throw ValidationError("--force cannot be combined with --shard (each shard would restart the stage); "
                                  + "force once without --shard")
        }
        if journal && shard == nil {
            throw ValidationError("--journal needs --shard k/N (plan first with --plan-shards N, merge after with --merge-shards)")
        }
        if let n = planShards, n < 1 || n > 10_000 { throw ValidationError("--plan-shards must be in 1...10000, got \(n)") }
        let modes = [(shard != nil, "--shard"), (planShards != nil, "--plan-shards"), (mergeShards, "--merge-shards")].filter(\.0)
        if modes.count > 1 {
            throw ValidationError(modes.map(\.1).joined(separator: " and ") + " are separate steps; run them one after the other")
        }
        if mergeShards && (force || dryRun) { throw ValidationError("--merge-shards takes neither --force nor --dry-run") }
        if !(lease > 0) { throw ValidationError("--lease must be > 0 seconds, got \(lease)") }
        if !(progressInterval > 0) { throw ValidationError("--progress-interval must be > 0, got \(progressInterval)") }
        if !FileManager.default.fileExists(atPath: config) {
            throw ValidationError("config file \(config) does not exist; pass --config pipelines/smoke.toml (or default, paper)")
        }
        if let v = codeVersion, v.isEmpty || v.contains(where: \.isWhitespace) {
            throw ValidationError("--code-version must be non-empty without spaces, got '\(v)'")
        }
        for o in overrides where !o.contains("=") { throw ValidationError("--set \(o): expected key=value") }
    }
}
