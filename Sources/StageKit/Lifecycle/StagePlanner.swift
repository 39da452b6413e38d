import Foundation
import Manifest

/// The decision for one invocation of a stage.
public enum StagePlan: Sendable, Equatable {
    /// A finished stage run with the same fingerprint whose outputs verify: nothing to do.
    case skip(stageRun: Int64)
    /// Work in `stageRun` (new or resumed) for the stated reason.
    case run(stageRun: Int64, reason: String, resumed: Bool)
    /// `--dry-run`: the decision, printed, and nothing done.
    case dryRun(StageRunner.Decision)
}

/// Fingerprint = `Fingerprint.compute(stage, codeVersion, canonicalConfig, input hashes)`.
/// At the start of each stage run an event `fingerprint-parts` records the parts (code version, a hash
/// of the input hashes, the canonical config), so a later run can say *why* it reruns.
extension StageRunner {
    static let partsTag = "fingerprint-parts"

    public func fingerprint(inputs: [ArtifactRecord]) -> String {
        Fingerprint.compute(stage: stage, codeVersion: codeVersion, canonicalConfig: canonicalConfig,
                            inputHashes: inputs.map(\.sha256) + externalInputHashes)
    }

    func partsMessage(inputs: [ArtifactRecord]) -> String {
        let hashes = inputs.map(\.sha256) + externalInputHashes
        let inputsHash = SHA256.hex(hashes.sorted().joined(separator: "\n"))
        return "\(Self.partsTag) code=\(codeVersion) inputs=\(inputsHash) n=\(hashes.count)\n\(canonicalConfig)"
    }

    /// What a stage invocation would do and why, decided without side effects (`--dry-run` prints it; `plan` acts on it).
    public enum Decision: Sendable, Equatable, CustomStringConvertible {
        /// A new stage run.
        case new(reason: String)
        /// Reopen finished stage run `stageRun` for `fresh` appended items.
        case append(stageRun: Int64, fresh: Int)
        /// Up to date: nothing to do.
        case skip(stageRun: Int64)
        /// Resume unfinished stage run `stageRun`, retrying its `failed` items.
        case resume(stageRun: Int64, status: StageStatus, failed: Int)

        public var description: String {
            switch self {
            case let .new(reason): return "would run a new stage run: \(reason)"
            case let .append(id, fresh): return "would append \(fresh) new item(s) to finished stage run \(id)"
            case let .skip(id): return "up to date: stage run \(id) finished and its outputs verify; nothing would run"
            case let .resume(id, status, failed):
                return "would resume stage run \(id) (\(status.rawValue))" + (failed > 0 ? ", retrying \(failed) failed item(s)" : "")
            }
        }
    }

    /// The decision for `inputs` and (per-item stages) `keys`: forced, new, changed fingerprint, outputs that fail
    /// verification -> a new run; finished, verified and lacking some of `keys` -> append; finished and verified ->
    /// skip; unfinished -> resume.
    public func decide(inputs: [ArtifactRecord], keys: [String]? = nil) throws -> Decision {
        let fp = fingerprint(inputs: inputs)
        if options.force { return .new(reason: "forced (--force)") }
        guard let latest = try db.stageRuns(stage: stage).first else { return .new(reason: "new: no earlier run of this stage") }
        guard latest.fingerprint == fp else { return .new(reason: try changeReason(previous: latest, inputs: inputs)) }
        switch latest.status {
        case .done:
            let problems = verify(try db.artifacts(stageRun: latest.id))
            guard problems.isEmpty else {
                let more = problems.count > 1 ? " (+\(problems.count - 1) more)" : ""
                return .new(reason: "outputs of stage run \(latest.id) failed verification: \(problems[0])\(more)")
            }
            if let keys {
                let known = Set(try db.items(stageRun: latest.id).map(\.key))
                let fresh = keys.filter { !known.contains($0) }.count
                if fresh > 0 { return .append(stageRun: latest.id, fresh: fresh) }
            }
            return .skip(stageRun: latest.id)
        case .failed, .running, .interrupted, .pending:
            let failed = shard == nil ? try db.counts(stageRun: latest.id).failed : 0
            return .resume(stageRun: latest.id, status: latest.status, failed: failed)
        }
    }

    /// Decides skip / new / resume (`decide`), under `locks/<stage>.plan.lock` so concurrent shards agree on one
    /// stage run, and acts on it. Logs the decision and its reason. `keys` (per-item stages): when an up-to-date
    /// finished run lacks some of them (items appended since, e.g. new prompts), that run is reopened
    /// for the new items only (incremental refresh) instead of being skipped. With `--dry-run`, prints the
    /// decision on stdout and returns `.dryRun` without touching the manifest's stage runs.
    public func plan(inputs: [ArtifactRecord], keys: [String]? = nil) throws -> StagePlan {
        guard let planLock = try FileLock(path: layout.lock("\(stage).plan").path, wait: true) else {
            preconditionFailure("blocking flock returned busy")
        }
        defer { withExtendedLifetime(planLock) {} }
        let decision = try decide(inputs: inputs, keys: keys)
        if options.dryRun {
            print("\(stage): dry run: \(decision)")
            return .dryRun(decision)
        }
        switch decision {
        case let .new(reason):
            let fp = fingerprint(inputs: inputs)
            // One transaction, so a crash never leaves a stage run without its fingerprint parts.
            let id = try db.transaction {
                let id = try db.beginStageRun(run: runID, stage: stage, fingerprint: fp, inputs: inputs.map(\.id))
                try db.event(stageRun: id, level: "info", message: partsMessage(inputs: inputs))
                try db.event(stageRun: id, level: "info", message: "start: \(reason)")
                return id
            }
            log.info("running (stage run \(id), fingerprint \(fp.prefix(12))): \(reason)")
            return .run(stageRun: id, reason: reason, resumed: false)
        case let .append(id, fresh):
            let reason = "appending \(fresh) new item(s) to finished stage run \(id)"
            try db.setStatus(stageRun: id, .running, error: nil)
            try db.event(stageRun: id, level: "info", message: "append: \(fresh) new item(s)")
            log.info(reason)
            return .run(stageRun: id, reason: reason, resumed: true)
        case let .skip(id):
            log.info("up to date: stage run \(id) (fingerprint \(fingerprint(inputs: inputs).prefix(12))) finished and its outputs "
                     + "verify; skipping")
            return .skip(stageRun: id)
        case let .resume(id, status, _):
            var reason = "resuming stage run \(id) (\(status.rawValue))"
            if shard == nil {
                let retried = try db.retryFailed(stageRun: id)
                if retried > 0 { reason += ", retrying \(retried) failed item(s)" }
            }
            if status != .running || shard == nil {
                try db.setStatus(stageRun: id, .running, error: nil)
            }
            try db.event(stageRun: id, level: "info", message: "resume: \(owner)")
            log.info(reason)
            return .run(stageRun: id, reason: reason, resumed: true)
        }
    }

    /// Why the fingerprint differs from the previous stage run's: code, inputs or which config keys.
    func changeReason(previous: StageRunRecord, inputs: [ArtifactRecord]) throws -> String {
        guard let old = try db.events(stageRun: previous.id).first(where: { $0.message.hasPrefix(Self.partsTag) })?.message
        else { return "fingerprint changed since stage run \(previous.id)" }
        let new = partsMessage(inputs: inputs)
        let (oldHead, oldConfig) = Self.split(old), (newHead, newConfig) = Self.split(new)
        var reasons: [String] = []
        let oldFields = Self.fields(oldHead), newFields = Self.fields(newHead)
        if oldFields["code"] != newFields["code"] {
            let old = oldFields["code"] ?? "?"
            reasons.append("code changed (\(old) -> \(newFields["code"] ?? "?"); to keep stage run \(previous.id)'s outputs "
                           + "instead, rerun with --code-version \(old))")
        }
        if oldFields["inputs"] != newFields["inputs"] {
            let (o, n) = (oldFields["n"] ?? "?", newFields["n"] ?? "?")
            reasons.append(o == n ? "input changed (hashes of the \(n) upstream artifacts differ)"
                                  : "input changed (\(o) -> \(n) upstream artifacts)")
        }
        if oldConfig != newConfig {
            let o = Self.configLines(oldConfig), n = Self.configLines(newConfig)
            let keys = Set(o.keys).union(n.keys).filter { o[$0] != n[$0] }.sorted()
            reasons.append("config changed (" + keys.map { "\($0): \(o[$0] ?? "unset") -> \(n[$0] ?? "unset")" }
                .joined(separator: ", ") + ")")
        }
        let what = reasons.isEmpty ? "fingerprint changed" : reasons.joined(separator: "; ")
        return "\(what) since stage run \(previous.id)"
    }

    static func split(_ message: String) -> (String, String) {
        guard let nl = message.firstIndex(of: "\n") else { return (message, "") }
        return (String(message[..<nl]), String(message[message.index(after: nl)...]))
    }

    static func fields(_ head: String) -> [String: String] {
        var out: [String: String] = [:]
        for part in head.split(separator: " ") {
            if let eq = part.firstIndex(of: "=") { out[String(part[..<eq])] = String(part[part.index(after: eq)...]) }
        }
        return out
    }

    /// `section.key -> value` from canonical config text.
    static func configLines(_ text: String) -> [String: String] {
        var section = "", out: [String: String] = [:]
        for line in text.split(separator: "\n") {
            if line.hasPrefix("[") { section = String(line.dropFirst().dropLast()); continue }
            let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if parts.count == 2 { out["\(section).\(parts[0])"] = parts[1] }
        }
        return out
    }
}
