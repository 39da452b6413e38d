/// Artifacts and lineage.
extension ManifestDB {
    static let artifactColumns = "id, kind, path, sha256, bytes, stage_run, item, created"

    static func artifact(_ r: Row) -> ArtifactRecord {
        ArtifactRecord(id: r.int(0), kind: r.text(1), relativePath: r.text(2), sha256: r.text(3), bytes: r.int(4),
                       stageRun: r.int(5), item: r.optInt(6), created: r.double(7))
    }

    func insertArtifacts(stageRun: Int64, item: Int64?, _ artifacts: [NewArtifact]) throws -> [Int64] {
        let t = now
        return try artifacts.map { a in
            precondition(!a.relativePath.hasPrefix("/"),
                         "artifact path '\(a.relativePath)' must be relative to the run directory")
            try db.run("INSERT INTO artifacts(kind, path, sha256, bytes, stage_run, item, created) VALUES (?,?,?,?,?,?,?)",
                       [.text(a.kind), .text(a.relativePath), .text(a.sha256), .int(a.bytes), .int(stageRun),
                        item.map { .int($0) } ?? .null, .double(t)])
            return db.lastInsertRowID
        }
    }

    /// Records whole-stage outputs (no producing item) in one transaction; returns their ids.
    /// Recording a path again adds a newer record; `artifact(path:)` and `verify` use the newest.
    @discardableResult
    public func recordArtifacts(stageRun: Int64, _ artifacts: [NewArtifact]) throws -> [Int64] {
        try transaction {
            try requireExists("stage_runs", "stage run", stageRun)
            return try insertArtifacts(stageRun: stageRun, item: nil, artifacts)
        }
    }

    /// Deletes the records of artifacts that nothing consumed (e.g. superseded training checkpoints),
    /// in one transaction. A record in some stage run's lineage is history and stays; returns the ids kept.
    @discardableResult
    public func forgetArtifacts(ids: [Int64]) throws -> Set<Int64> {
        guard !ids.isEmpty else { return [] }
        return try transaction {
            var kept: Set<Int64> = []
            for id in ids {
                let consumed = try db.query("SELECT 1 FROM lineage WHERE artifact=? LIMIT 1", [.int(id)]) { $0.int(0) }
                if consumed.isEmpty { try db.run("DELETE FROM artifacts WHERE id=?", [.int(id)]) } else { kept.insert(id) }
            }
            return kept
        }
    }

    /// Artifacts produced by a stage run (its items' and its own), in id order; of several records of one path in
    /// the run (an item appended to a finished run rewrote a file an earlier item wrote, such as the bench's
    /// results.json), only the newest, which describes the file on disk.
    public func artifacts(stageRun: Int64) throws -> [ArtifactRecord] {
        try locked {
            try db.query("""
                SELECT \(Self.artifactColumns) FROM artifacts a
                WHERE stage_run=? AND id = (SELECT max(id) FROM artifacts b WHERE b.stage_run = a.stage_run AND b.path = a.path)
                ORDER BY id
                """, [.int(stageRun)], Self.artifact)
        }
    }

    /// The newest record of the artifact at `path` (relative to the run directory), if any.
    public func artifact(path relativePath: String) throws -> ArtifactRecord? {
        try locked {
            try db.query("SELECT \(Self.artifactColumns) FROM artifacts WHERE path=? ORDER BY id DESC LIMIT 1",
                         [.text(relativePath)], Self.artifact).first
        }
    }

    /// The artifact with `id`, if any.
    public func artifact(id: Int64) throws -> ArtifactRecord? {
        try locked {
            try db.query("SELECT \(Self.artifactColumns) FROM artifacts WHERE id=?", [.int(id)], Self.artifact).first
        }
    }

    /// The newest record of every recorded path, in path order (what `verify` checks).
    public func currentArtifacts() throws -> [ArtifactRecord] {
        try locked {
            try db.query("""
                SELECT \(Self.artifactColumns) FROM artifacts a
                WHERE id = (SELECT max(id) FROM artifacts b WHERE b.path = a.path) ORDER BY path
                """, [], Self.artifact)
        }
    }

    /// Artifacts consumed by a stage run (its lineage inputs), in id order.
    public func inputs(stageRun: Int64) throws -> [ArtifactRecord] {
        try locked {
            try db.query("""
                SELECT \(Self.artifactColumns) FROM artifacts WHERE id IN (SELECT artifact FROM lineage WHERE stage_run=?)
                ORDER BY id
                """, [.int(stageRun)], Self.artifact)
        }
    }
}
