import Manifest

/// `inspect lineage`: a `LineageGraph` as text or as Graphviz DOT. Every stage run appears once and every artifact
/// once, under the stage run that made it; what a stage run read is one line per upstream stage run with counts by
/// kind, so per-item fan-in ("read 256 quality-map from patch-quality") costs one line, not a copy of the upstream
/// graph per item. Artifacts of one kind made by one stage run collapse into one line from `collapseAt` on.
public enum LineageReport {
    /// Artifacts of one kind and producer listed one by one below this count, on one collapsed line from it on.
    public static let collapseAt = 3

    public enum Format: String, CaseIterable, Sendable { case text, dot }

    public static func render(_ g: LineageGraph, format: Format) -> String {
        switch format {
        case .text: return text(g)
        case .dot: return dot(g)
        }
    }

    /// The graph as text: the artifact and its producer, a count line, then one section per stage run (breadth-first,
    /// level 0 = the producer): what it made that the lineage holds ("made"), then what it read ("read from").
    public static func text(_ g: LineageGraph) -> String {
        let p = Parts(g)
        let r = g.root
        var out = "\(r.record.relativePath)  sha256 \(r.record.sha256.prefix(12))  \(r.record.bytes) bytes\n"
        out += "  <- \(p.name(r.record.stageRun))" + (r.itemKey.map { ", item '\($0)'" } ?? "") + "\n"
        out += "lineage: \(g.stageRuns.count) stage run(s), \(p.artifactCount) artifact(s); each listed once, under the stage run that made it\n"
        for n in g.stageRuns {
            out += "\n[\(n.level)] \(p.name(n.record.id))\n"
            for group in p.made[n.record.id] ?? [] {
                if group.members.count >= collapseAt {
                    let keys = group.members.compactMap(\.itemKey).sorted()
                    let bytes = group.members.reduce(Int64(0)) { $0 + $1.record.bytes }
                    out += "  made \(group.members.count) \(group.kind), \(bytes) bytes"
                        + (keys.isEmpty ? "" : ", items '\(keys.first!)' .. '\(keys.last!)'") + ": "
                        + "\(group.members.first!.record.relativePath) .. \(group.members.last!.record.relativePath)\n"
                } else {
                    for a in group.members {
                        out += "  made \(a.record.relativePath)  sha256 \(a.record.sha256.prefix(12))  \(a.record.bytes) bytes"
                            + (a.itemKey.map { "  item '\($0)'" } ?? "") + "\n"
                    }
                }
            }
            guard let inputs = n.inputs else {
                out += "  read: not followed (--depth \(n.level))\n"
                continue
            }
            if inputs.isEmpty { out += "  read nothing recorded\n" }
            for (producer, read) in Parts.grouped(inputs, by: \.record.stageRun) {
                let kinds = Parts.grouped(read, by: \.record.kind).map { "\($0.1.count) \($0.0)" }.joined(separator: ", ")
                out += "  read \(kinds) from \(p.name(producer))\n"
            }
        }
        return out
    }

    /// The graph as Graphviz DOT (`dot -Tsvg`): stage runs are boxes, artifacts notes (the one asked about bold), and
    /// artifacts of one kind made by one stage run from `collapseAt` on one folder node labelled with their count.
    /// Edges run producer -> artifact -> consumer; an edge from a collapsed node is labelled with how many of its
    /// artifacts the consumer read when that is not all of them.
    public static func dot(_ g: LineageGraph) -> String {
        let p = Parts(g)
        var lines = ["digraph lineage {", "  rankdir=LR;", "  node [fontname=\"Helvetica\", fontsize=10];"]
        var nodeOf: [Int64: String] = [:], size: [String: Int] = [:]    // artifact id -> its node; node -> artifacts in it
        for n in g.stageRuns {
            let run = n.record.id
            lines.append("  r\(run) [shape=box, label=\(quoted("\(n.record.stage)\nstage run \(run) (\(n.record.status.rawValue))"))];")
            for (k, group) in (p.made[run] ?? []).enumerated() {
                if group.members.count >= collapseAt {
                    let id = "g\(run)_\(k)"
                    lines.append("  \(id) [shape=folder, label=\(quoted("\(group.members.count) \(group.kind)"))];")
                    lines.append("  r\(run) -> \(id);")
                    for a in group.members { nodeOf[a.record.id] = id }
                    size[id] = group.members.count
                } else {
                    for a in group.members {
                        let id = "a\(a.record.id)", bold = a.record.id == g.root.record.id ? ", style=bold" : ""
                        lines.append("  \(id) [shape=note\(bold), label=\(quoted(a.record.relativePath))];")
                        lines.append("  r\(run) -> \(id);")
                        nodeOf[a.record.id] = id
                        size[id] = 1
                    }
                }
            }
        }
        for n in g.stageRuns {
            var counts: [String: Int] = [:], order: [String] = []
            for a in n.inputs ?? [] {
                guard let node = nodeOf[a.record.id] else { continue }
                if counts[node] == nil { order.append(node) }
                counts[node, default: 0] += 1
            }
            for id in order {
                lines.append("  \(id) -> r\(n.record.id)" + (counts[id]! < size[id]! ? " [label=\"\(counts[id]!)\"]" : "") + ";")
            }
        }
        return (lines + ["}"]).joined(separator: "\n") + "\n"
    }

    /// A DOT string literal.
    static func quoted(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n") + "\""
    }

    /// What both formats derive from a graph: stage run names, and per stage run the artifacts of the lineage it made
    /// (the root, and whatever a followed stage run read from it), each once, grouped by kind in id order.
    struct Parts {
        struct Group { let kind: String; var members: [LineageArtifact] }
        let runs: [Int64: StageRunRecord]
        let made: [Int64: [Group]]
        let artifactCount: Int

        init(_ g: LineageGraph) {
            runs = Dictionary(uniqueKeysWithValues: g.stageRuns.map { ($0.record.id, $0.record) })
            var byID: [Int64: LineageArtifact] = [g.root.record.id: g.root]
            for n in g.stageRuns { for a in n.inputs ?? [] { byID[a.record.id] = a } }
            let all = byID.values.sorted { $0.record.id < $1.record.id }
            artifactCount = all.count
            made = Dictionary(grouping: all, by: \.record.stageRun).mapValues { arts in
                Parts.grouped(arts, by: \.record.kind).map { Group(kind: $0.0, members: $0.1) }
            }
        }

        /// "stage (stage run N, status)".
        func name(_ run: Int64) -> String {
            guard let r = runs[run] else { return "stage run \(run)" }
            return "\(r.stage) (stage run \(r.id), \(r.status.rawValue))"
        }

        /// `items` split by `key`, groups in order of first appearance, members in their order.
        static func grouped<K: Hashable>(_ items: [LineageArtifact], by key: KeyPath<LineageArtifact, K>) -> [(K, [LineageArtifact])] {
            var order: [K] = [], groups: [K: [LineageArtifact]] = [:]
            for a in items {
                if groups[a[keyPath: key]] == nil { order.append(a[keyPath: key]) }
                groups[a[keyPath: key], default: []].append(a)
            }
            return order.map { ($0, groups[$0]!) }
        }
    }
}
