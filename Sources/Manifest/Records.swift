/// Status of a stage run. `interrupted` marks a run stopped by a signal or found `running`
/// with no live worker; it may be resumed.
public enum StageStatus: String, Sendable, CaseIterable {
    case pending, running, done, failed, interrupted
}

/// Status of a work item.
public enum ItemStatus: String, Sendable, CaseIterable {
    case pending, running, done, failed
}

/// One row of `runs`: a pipeline run directory under one config and code version.
public struct RunRecord: Sendable, Equatable {
    public let id: Int64
    public let name: String
    public let config: String
    public let configHash: String
    public let codeVersion: String
    public let created: Double
}

/// One row of `stage_runs`. Times are Unix seconds.
public struct StageRunRecord: Sendable, Equatable {
    public let id: Int64
    public let run: Int64
    public let stage: String
    public let fingerprint: String
    public let status: StageStatus
    public let started: Double?
    public let finished: Double?
    public let error: String?
}

/// A split of a per-item stage across `count` workers: a worker with `index` takes the items whose
/// stable key hash (FNV-1a 64, see `Shard.hash`) satisfies `hash % count == index`.
public struct Shard: Sendable, Equatable, CustomStringConvertible {
    public let index: Int
    public let count: Int
    /// `0 <= index < count`; a violation is programmer misuse (validate `--shard k/N` first).
    public init(index: Int, count: Int) {
        precondition(count >= 1 && index >= 0 && index < count, "Shard(index: \(index), count: \(count)) needs 0 <= index < count")
        self.index = index
        self.count = count
    }
    public var description: String { "\(index)/\(count)" }

    /// Stable 63-bit hash of a key: FNV-1a 64 over its UTF-8 bytes, top bit cleared.
    /// Independent of process, platform and Swift's randomised `Hasher`.
    public static func hash(_ key: String) -> Int64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key.utf8 {
            h ^= UInt64(byte)
            h = h &* 0x0000_0100_0000_01B3
        }
        return Int64(bitPattern: h & 0x7fff_ffff_ffff_ffff)
    }

    /// Whether `key` belongs to this shard.
    public func contains(_ key: String) -> Bool { Int(Shard.hash(key) % Int64(count)) == index }
}

/// A claimed item. `token` is the fencing token: only the holder of the item's current token may
/// complete or fail it.
public struct Claim: Sendable, Equatable, Hashable {
    public let item: Int64
    public let key: String
    public let token: Int64
    /// Claims come from `ManifestDB.claim`; a journal shard (which claims nothing: its journal has one writer) makes
    /// one for its item context from the plan's item row.
    public init(item: Int64, key: String, token: Int64) { self.item = item; self.key = key; self.token = token }
}

/// Item counts of a stage run by status.
public struct ItemCounts: Sendable, Equatable {
    public var pending = 0, running = 0, done = 0, failed = 0
    public var total: Int { pending + running + done + failed }
    public init(pending: Int = 0, running: Int = 0, done: Int = 0, failed: Int = 0) {
        self.pending = pending; self.running = running; self.done = done; self.failed = failed
    }
}

/// An artifact to record: a file under the run directory, already written (atomically).
public struct NewArtifact: Sendable, Equatable {
    public let kind: String
    /// Path relative to the run directory, e.g. `artifacts/generate-pool/p0001/s3.png`.
    public let relativePath: String
    /// Lowercase hex SHA-256 of the file's bytes (64 characters).
    public let sha256: String
    public let bytes: Int64
    public init(kind: String, relativePath: String, sha256: String, bytes: Int64) {
        self.kind = kind; self.relativePath = relativePath; self.sha256 = sha256; self.bytes = bytes
    }
}

/// One row of `artifacts`.
public struct ArtifactRecord: Sendable, Equatable {
    public let id: Int64
    public let kind: String
    public let relativePath: String
    public let sha256: String
    public let bytes: Int64
    public let stageRun: Int64
    public let item: Int64?
    public let created: Double
}

/// Where an artifact came from, as a graph (`ManifestDB.lineage(artifact:depth:)`): the stage runs reached upstream
/// of it, each once, with what each read. Lineage is recorded per stage run (every item of a run reads the run's
/// inputs), so the graph is one of stage runs; an artifact read by several of them is still one record.
public struct LineageGraph: Sendable, Equatable {
    /// The artifact asked about, with the key of the item that produced it.
    public let root: LineageArtifact
    /// Every stage run reached, each once, breadth-first from the root's producer (level 0).
    public let stageRuns: [LineageStageRun]
}

/// An artifact record with the key of its producing item (nil for whole-stage outputs).
public struct LineageArtifact: Sendable, Equatable {
    public let record: ArtifactRecord
    public let itemKey: String?
}

/// One stage run of a `LineageGraph`.
public struct LineageStageRun: Sendable, Equatable {
    public let record: StageRunRecord
    /// Reads between it and the root's producer (0 for the producer itself).
    public let level: Int
    /// What it read, in id order; nil when its level is the depth asked for (its inputs were not followed).
    public let inputs: [LineageArtifact]?
}

/// One row of `metrics`. A NaN value round-trips as NaN.
public struct MetricRecord: Sendable {
    public let stageRun: Int64
    public let name: String
    public let step: Int
    public let value: Double
    public let time: Double
}

/// One row of `events`.
public struct EventRecord: Sendable, Equatable {
    public let time: Double
    public let stageRun: Int64?
    public let level: String
    public let message: String
}

/// A recorded artifact that does not match its file.
public struct VerifyProblem: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        case missing
        case sizeMismatch(recorded: Int64, actual: Int64)
        case hashMismatch(recorded: String, actual: String)
        case unreadable(errno: Int32)
    }
    public let artifact: ArtifactRecord
    public let kind: Kind
    public var description: String {
        let p = artifact.relativePath
        switch kind {
        case .missing: return "\(p): missing (recorded by stage run \(artifact.stageRun)); hint: rerun that stage"
        case let .sizeMismatch(r, a): return "\(p): \(a) bytes, recorded \(r); hint: the file was edited or truncated, rerun its stage"
        case let .hashMismatch(r, a): return "\(p): sha256 \(a), recorded \(r); hint: the file was edited, rerun its stage"
        case let .unreadable(e): return "\(p): unreadable (errno \(e)); hint: check permissions"
        }
    }
}
