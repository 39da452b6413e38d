import Foundation
import Manifest

/// What a stage declares about itself.
/// - `name`: the manifest stage name; also `artifacts/<name>/` and `locks/<name>.lock`.
/// - `schema`: its config section and keys (the section name is `schema.section`).
/// - `sourceFingerprint`: the hash of the sources of every module the stage's executable links, computed at
///   build time (the `CodeFingerprint` build plugin's `BuildSources.fingerprint`; Manifest's `SourceFingerprint`).
///   Its first 12 hex digits are the stage's code version, which enters the fingerprint, so any change to that
///   code reruns the stage ("code changed") with nothing to bump by hand. `--code-version` overrides it.
/// - `upstream`: stages whose newest finished outputs are this stage's inputs.
public struct StageDefinition: Sendable {
    public let name: String
    public let schema: ConfigSchema
    public let sourceFingerprint: String
    public let upstream: [String]

    public init(name: String, schema: ConfigSchema, sourceFingerprint: String, upstream: [String] = []) {
        precondition(!name.isEmpty && !name.contains("/"), "stage name '\(name)' must be non-empty without '/'")
        precondition(!sourceFingerprint.isEmpty && !sourceFingerprint.contains(where: \.isWhitespace),
                     "stage \(name): the source fingerprint must be non-empty without spaces")
        self.name = name; self.schema = schema; self.sourceFingerprint = sourceFingerprint; self.upstream = upstream
    }

    /// The `discussion` of the stage's `--help`: `intro`, every config key with its default and doc (from the schema),
    /// `--shard` for a stage whose items can be split (`shardable`: it runs `runItems`; the flag is hidden from every
    /// other stage's help, and they refuse it), and the exit codes (`items`: whether code 1, some items failed, can happen).
    public func help(_ intro: String = "", items: Bool = true, shardable: Bool = false) -> String {
        (intro.isEmpty ? "" : intro + "\n\n") + schema.help() + "\n" + (shardable ? Self.shardHelp : "") + StageExitCode.help(items: items)
    }

    /// What `--shard` does, in the help of the stages that take it.
    static let shardHelp = "Sharding: --shard k/N takes only the items whose key hash mod N is k (0 <= k < N); the N shards may run "
        + "at once in this run directory and join one stage run, and a step that needs every item (a reduce item) runs in the shard "
        + "that finishes last.\n\n"
        + "Shards on several hosts (journal mode, docs/SHARDING.md): --plan-shards N plans the stage run once and writes "
        + "shards/<stage>/plan.sqlite; then each --shard k/N --journal records its items in shards/<stage>/k-of-N.sqlite "
        + "and never writes manifest.sqlite; --merge-shards folds the journals into the manifest in one transaction "
        + "(idempotent; a journal of another plan, config or code is refused, exit 65). Reduce items are left to a run "
        + "without --shard after the merge.\n\n"

    /// The code version the build gives this stage (before any `--code-version` override): `src.<12 hex>`.
    public var codeVersion: String { "src.\(sourceFingerprint.prefix(12))" }
}

/// Run-directory layout: `manifest.sqlite`, `artifacts/<stage>/...`, `locks/<stage>.lock`.
public struct RunLayout: Sendable {
    public let root: URL
    public init(root: URL) { self.root = root }
    public var manifest: URL { root.appendingPathComponent("manifest.sqlite") }
    public func artifacts(_ stage: String) -> URL { root.appendingPathComponent("artifacts/\(stage)", isDirectory: true) }
    public func lock(_ name: String) -> URL { root.appendingPathComponent("locks/\(name).lock") }
    /// Journal mode: `shards/<stage>/`, holding the plan and the shards' journals.
    public func shards(_ stage: String) -> URL { root.appendingPathComponent("shards/\(stage)", isDirectory: true) }
    /// Journal mode: the plan, a snapshot of the manifest the shards read (`shards/<stage>/plan.sqlite`).
    public func shardPlan(_ stage: String) -> URL { shards(stage).appendingPathComponent("plan.sqlite") }
    /// Journal mode: shard `shard`'s journal (`shards/<stage>/<k>-of-<N>.sqlite`).
    public func shardJournal(_ stage: String, _ shard: Shard) -> URL { shards(stage).appendingPathComponent(ShardJournal.fileName(shard)) }
    /// Path of `url` relative to the run directory (as recorded in the manifest).
    public func relative(_ url: URL) -> String {
        let r = root.standardizedFileURL.path, p = url.standardizedFileURL.path
        precondition(p.hasPrefix(r + "/"), "\(p) is not under the run directory \(r)")
        return String(p.dropFirst(r.count + 1))
    }
}

/// The locks a stage process holds. Without a shard: `locks/<stage>.lock` exclusively (a second
/// run exits busy). With shard k/N: `locks/<stage>.lock` shared (so shards coexist but exclude an
/// unsharded run) and `locks/<stage>.shard-k-of-N.lock` exclusively (one process per shard).
/// `bestEffort` (journal mode's steps, docs/SHARDING.md, whose safety does not rest on these locks): a file system that
/// refuses `flock` (ENOLCK, EOPNOTSUPP, ENOSYS: some network file systems) leaves the lock untaken, listed in
/// `untaken`, instead of failing the stage.
struct StageLocks {
    let held: [FileLock]
    private(set) var untaken: [String] = []

    init(layout: RunLayout, stage: String, shard: ShardSpec?, bestEffort: Bool = false) throws {
        var held: [FileLock] = []
        var untaken: [String] = []
        func take(_ path: String, shared: Bool) throws {
            do {
                guard let lock = try FileLock(path: path, shared: shared) else { throw StageError.busy(stage: stage, lock: path) }
                held.append(lock)
            } catch let StageError.io(_, operation, code) where bestEffort && operation == "flock" && Self.unsupported(code) {
                untaken.append(path)
            }
        }
        try take(layout.lock(stage).path, shared: shard != nil)
        if let s = shard { try take(layout.lock("\(stage).shard-\(s.index)-of-\(s.count)").path, shared: false) }
        self.held = held
        self.untaken = untaken
    }

    /// Whether `flock` failed with `code` because the file system does not do it (not because the lock is held).
    static func unsupported(_ code: Int32) -> Bool { [ENOLCK, EOPNOTSUPP, ENOSYS].contains(code) }
}
