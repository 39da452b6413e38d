/// Lineage: where an artifact came from.
extension ManifestDB {
    /// The lineage of `artifact` as a graph: its producing stage run (level 0), the artifacts that run read, their
    /// producing stage runs (level 1), and so on, each stage run visited once (breadth-first), so the cost is one
    /// query per stage run reached whatever the fan-in. `depth` limits how many levels of reads are followed (nil:
    /// all; 0: the producer alone). A cycle, which the API cannot create but a hand-edited file could, ends where it
    /// meets a stage run already visited. Throws `.notFound` for an unknown id.
    public func lineage(artifact: Int64, depth: Int? = nil) throws -> LineageGraph {
        precondition(depth.map { $0 >= 0 } ?? true, "lineage depth must be >= 0, got \(depth!)")
        return try locked {
            guard let root = try db.query("""
                SELECT \(Self.lineageColumns) FROM artifacts a LEFT JOIN items i ON i.id = a.item WHERE a.id=?
                """, [.int(artifact)], Self.lineageArtifact).first else {
                throw ManifestError.notFound(path: path, what: "artifact", id: artifact)
            }
            var nodes: [LineageStageRun] = []
            var queue: [(id: Int64, level: Int)] = [(root.record.stageRun, 0)]
            var seen: Set<Int64> = [root.record.stageRun]
            var next = 0
            while next < queue.count {
                let (id, level) = queue[next]
                next += 1
                var inputs: [LineageArtifact]?
                if depth.map({ level < $0 }) ?? true {
                    let read = try db.query("""
                        SELECT \(Self.lineageColumns) FROM lineage l JOIN artifacts a ON a.id = l.artifact
                        LEFT JOIN items i ON i.id = a.item WHERE l.stage_run=? ORDER BY a.id
                        """, [.int(id)], Self.lineageArtifact)
                    for a in read where seen.insert(a.record.stageRun).inserted { queue.append((a.record.stageRun, level + 1)) }
                    inputs = read
                }
                nodes.append(LineageStageRun(record: try stageRun(id: id), level: level, inputs: inputs))
            }
            return LineageGraph(root: root, stageRuns: nodes)
        }
    }

    static let lineageColumns = "a.id, a.kind, a.path, a.sha256, a.bytes, a.stage_run, a.item, a.created, i.key"

    static func lineageArtifact(_ r: Row) -> LineageArtifact {
        LineageArtifact(record: artifact(r), itemKey: r.optText(8))
    }
}
