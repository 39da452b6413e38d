import Foundation
import Manifest

/// Opens everything a stage needs, in order: config (no unknown sections, `[run]` + the stage's section,
/// with flag overrides), the run directory, the stage locks (busy -> `StageError.busy`), the manifest (whose runs
/// must carry the config's run name: `StageError.runNameMismatch`), and the run record. Then `runItems` (per-item stages) or `runWhole` (training stages) does the work;
/// `plan` decides skip / rerun / resume (see `StagePlanner.swift`).
public final class StageRunner {
    public let definition: StageDefinition
    public let options: CommonOptions
    /// `[run]` after `--seed` / `--threads`.
    public let run: RunConfig
    /// The stage's section after its flags and `--set`.
    public let config: ConfigSection
    public let layout: RunLayout
    public let db: ManifestDB
    public let runID: Int64
    public let log: Log
    public internal(set) var summary: StageSummary
    let started = Date()
    private let locks: StageLocks

    public var stage: String { definition.name }
    /// The code version in this stage's fingerprint and records: `--code-version` if given, else the build's
    /// (`definition.codeVersion`, `src.` + the first 12 hex digits of the source fingerprint).
    public let codeVersion: String
    /// SHA-256s of files outside the run that the stage reads (e.g. a shipped checkpoint it imports);
    /// they enter the fingerprint like upstream artifacts, so a changed file reruns the stage.
    public var externalInputHashes: [String] = []
    /// Journal mode: the metrics the item in flight recorded (`ItemContext.metric`), journaled with it.
    var journalMetrics: [ShardJournal.Metric] = []
    public var shard: Shard? { options.shard?.shard }
    /// `<host>:<pid>`, the lease owner written into claimed items.
    public let owner = "\(ProcessInfo.processInfo.hostName):\(getpid())"

    /// - Parameter flagOverrides: `key=value` from the stage's own flags (applied before `--set`).
    public init(_ definition: StageDefinition, options: CommonOptions, flagOverrides: [String] = [],
                log: Log? = nil) throws {
        self.definition = definition
        self.options = options
        codeVersion = options.codeVersion ?? definition.codeVersion
        let read = try Self.readConfig(definition, options: options, flagOverrides: flagOverrides)
        let doc = read.document
        run = RunConfig(read.run)
        config = read.config
        let log = log ?? Log(stage: definition.name, level: options.logLevel, format: options.logFormat)
        self.log = log
        summary = StageSummary(stage: definition.name)
        let root = URL(fileURLWithPath: options.runDir ?? "runs/\(run.name)", isDirectory: true).standardizedFileURL
        layout = RunLayout(root: root)
        do { try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true) } catch {
            throw StageError.io(path: root.path, operation: "create run directory", errno: EACCES)
        }
        let journalMode = options.journal || options.planShards != nil || options.mergeShards
        locks = try StageLocks(layout: layout, stage: definition.name, shard: options.shard, bestEffort: journalMode)
        for path in locks.untaken {
            log.warn("\(path): this file system does not take flock locks; going on without it (journal mode does not need "
                     + "it: the scheduler runs the plan first, each shard once, the merge last; docs/SHARDING.md)")
        }
        // Journal mode: a shard reads the plan (a snapshot of the manifest) and never opens manifest.sqlite.
        db = options.journal ? try Self.openPlan(layout.shardPlan(definition.name), stage: definition.name)
                             : try ManifestDB(path: layout.manifest.path)
        // A run directory belongs to the run name of its first run: another config's stages would mix two pipelines.
        if let first = try db.runs().first, first.name != run.name {
            throw StageError.runNameMismatch(stage: definition.name, config: options.config, name: run.name,
                                             runDirectory: root.path, recorded: first.name)
        }
        let canonical = doc.canonical
        if options.journal {
            // The plan is read-only: this config's run record if the plan has it (0 if not; a journal shard begins no
            // stage run, and its fingerprint is checked against the planned one).
            let (name, hash, version) = (run.name, SHA256.hex(canonical), codeVersion)
            runID = try db.runs().last { $0.name == name && $0.configHash == hash && $0.codeVersion == version }?.id ?? 0
        } else {
            runID = try db.ensureRun(name: run.name, configHash: SHA256.hex(canonical), codeVersion: codeVersion,
                                     config: canonical)
        }
        log.debug("run dir \(root.path), config \(options.config), run id \(runID)")
    }

    /// The config as this stage reads it: the file (no unknown sections), `[run]` after `--seed` / `--threads`, and
    /// the stage's section after its flags (`flagOverrides`) and `--set`. Errors name the file and line.
    public static func readConfig(_ definition: StageDefinition, options: CommonOptions, flagOverrides: [String] = [])
        throws -> (document: TOMLDocument, run: ConfigSection, config: ConfigSection) {
        let doc = try TOMLDocument.load(URL(fileURLWithPath: options.config))
        try PipelineSections.check(doc, alsoKnown: [definition.schema.section])
        let runFlags = (options.seed.map { ["seed=\($0)"] } ?? []) + (options.threads.map { ["threads=\($0)"] } ?? [])
        return (doc, try RunConfig.schema.resolve(doc, overrides: runFlags),
                try definition.schema.resolve(doc, overrides: flagOverrides + options.overrides))
    }

    /// The canonical text that enters the fingerprint: the stage's section and the run seed.
    public var canonicalConfig: String { "[\(config.name)]\n" + config.canonical + "[run]\nseed = \(run.seed)\n" }

    /// The newest finished outputs of upstream stage `upstream`. Throws `.upstreamMissing` when it has
    /// never run here (naming every declared upstream that has not either), `.inputUnverified` when its newest run is
    /// unfinished, `.staleUpstream` when that run read outputs its own upstream has since replaced (so this stage would
    /// consume stale results).
    public func upstreamOutputs(_ upstream: String) throws -> [ArtifactRecord] {
        guard let latest = try db.stageRuns(stage: upstream).first else {
            let candidates = definition.upstream.contains(upstream) ? definition.upstream : [upstream] + definition.upstream
            throw StageError.upstreamMissing(stage: stage, upstreams: try candidates.filter { try db.stageRuns(stage: $0).isEmpty })
        }
        guard latest.status == .done else {
            throw StageError.inputUnverified(stage: stage, upstream: upstream,
                                             problem: "its newest stage run \(latest.id) is \(latest.status.rawValue), not done; "
                                                 + "hint: rerun `\(StageCommand.of(upstream))` to finish it")
        }
        if let stale = try db.staleness(stageRun: latest.id).first {
            throw StageError.staleUpstream(stage: stage, upstream: upstream, because: stale.description)
        }
        return try db.artifacts(stageRun: latest.id)
    }

    /// Inputs from every declared upstream stage, in upstream order.
    public func allUpstreamOutputs() throws -> [ArtifactRecord] {
        try definition.upstream.flatMap { try upstreamOutputs($0) }
    }

    /// Checks recorded artifacts against their files (existence, size, SHA-256); returns problems.
    public func verify(_ artifacts: [ArtifactRecord]) -> [String] {
        artifacts.compactMap { a in
            let url = layout.root.appendingPathComponent(a.relativePath)
            guard let attrs = try? FileManager.default.attributesOfItem(atPath: url.path),
                  let size = (attrs[.size] as? NSNumber)?.int64Value else {
                return "\(url.path): missing (recorded by stage run \(a.stageRun))"
            }
            if size != a.bytes { return "\(url.path): \(size) bytes, recorded \(a.bytes) (truncated or edited)" }
            guard let hash = try? SHA256.hexOfFile(url) else { return "\(url.path): unreadable" }
            return hash == a.sha256 ? nil : "\(url.path): sha256 \(hash.prefix(12))…, recorded \(a.sha256.prefix(12))… (edited)"
        }
    }

    /// The records to commit for files already written (atomically, by an earlier process of this stage
    /// run, e.g. learning-curve sheets) under `artifacts/<stage>/<folder>/`, in name order; none when absent.
    public func writtenArtifacts(in folder: String, kind: String) throws -> [NewArtifact] {
        let dir = layout.artifacts(stage).appendingPathComponent(folder, isDirectory: true)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir.path) else { return [] }
        return try names.filter { !$0.hasPrefix(".") }.sorted().map { name in
            let url = dir.appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: url.path) else {
                throw StageError.missingFile(path: url.path, hint: "it vanished while the stage ran; rerun the stage")
            }
            return NewArtifact(kind: kind, relativePath: layout.relative(url), sha256: SHA256.hex(data), bytes: Int64(data.count))
        }
    }

    /// Writes `data` atomically to `artifacts/<stage>/<name>` and returns the record to commit.
    public func writeArtifact(_ data: Data, name: String, kind: String) throws -> NewArtifact {
        let url = layout.artifacts(stage).appendingPathComponent(name)
        try AtomicWrite.write(data, to: url)
        return NewArtifact(kind: kind, relativePath: layout.relative(url), sha256: SHA256.hex(data), bytes: Int64(data.count))
    }

    /// Reads an input artifact, refusing it (`.inputUnverified`) unless its size and hash match the record.
    public func readVerified(_ artifact: ArtifactRecord, upstream: String) throws -> Data {
        let url = layout.root.appendingPathComponent(artifact.relativePath)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw StageError.inputUnverified(stage: stage, upstream: upstream,
                                             problem: "\(url.path): missing; hint: rerun `\(StageCommand.of(upstream)) --force`")
        }
        guard Int64(data.count) == artifact.bytes, SHA256.hex(data) == artifact.sha256 else {
            throw StageError.inputUnverified(stage: stage, upstream: upstream,
                                             problem: "\(url.path): contents differ from the manifest record "
                                                 + "(edited after recording); hint: rerun `\(StageCommand.of(upstream)) --force` to regenerate it")
        }
        return data
    }

    var elapsed: Double { Date().timeIntervalSince(started) }
}
