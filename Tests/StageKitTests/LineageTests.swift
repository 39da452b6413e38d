import Foundation
import Manifest
import StageKit
import Testing

/// `inspect lineage` on a pipeline-shaped manifest with thousands of items (issue 20 item 5). The tree it printed
/// before repeated every upstream graph under every input: for `artifacts/train/adapter.safetensors` below, each of
/// the 2000 quality maps brought the 4000 pool artifacts beneath it again (some 8 million lines).
struct LineageReportTests {
    static let items = 2000

    /// pretrain (weights + record) -> pool (2000 items: an image and a prompt each) -> quality (a map per pool item,
    /// and a whole-stage table; reads pool and pretrain) -> train (one adapter; reads quality, pool and pretrain).
    /// Nothing is written to disk but the manifest, in one transaction: lineage reads records only.
    static func manifest(_ dir: URL) throws -> ManifestDB {
        let db = try ManifestDB(path: dir.appendingPathComponent("manifest.sqlite").path)
        try db.transaction { try fill(db) }
        return db
    }

    static func fill(_ db: ManifestDB) throws {
        let run = try db.ensureRun(name: "test", configHash: "c", codeVersion: "v")
        func art(_ path: String, _ kind: String) -> NewArtifact {
            NewArtifact(kind: kind, relativePath: path, sha256: SHA256.hex(path), bytes: Int64(path.utf8.count))
        }
        func perItem(_ stageRun: Int64, _ outputs: (String) -> [NewArtifact]) throws -> [Int64] {
            try db.addItems(stageRun: stageRun, keys: (0..<items).map { String(format: "p%04d", $0) })
            var ids: [Int64] = []
            while case let claims = try db.claim(stageRun: stageRun, owner: "w", limit: 500, lease: 60), !claims.isEmpty {
                for c in claims { ids += try db.complete(c, artifacts: outputs(c.key)) }
            }
            return ids
        }
        let pretrain = try db.beginStageRun(run: run, stage: "pretrain", fingerprint: "f1", inputs: [])
        let weights = try db.recordArtifacts(stageRun: pretrain, [art("artifacts/pretrain/w.safetensors", "checkpoint"),
                                                                  art("artifacts/pretrain/w.json", "record")])
        let pool = try db.beginStageRun(run: run, stage: "pool", fingerprint: "f2", inputs: weights)
        let images = try perItem(pool) { [art("artifacts/pool/\($0).png", "generated"), art("artifacts/pool/\($0).json", "prompt")] }
        let quality = try db.beginStageRun(run: run, stage: "quality", fingerprint: "f3", inputs: weights + images)
        let maps = try perItem(quality) { [art("artifacts/quality/\($0).safetensors", "quality-map")] }
            + (try db.recordArtifacts(stageRun: quality, [art("artifacts/quality/auroc.json", "table")]))
        let train = try db.beginStageRun(run: run, stage: "train", fingerprint: "f4", inputs: maps + images + weights)
        try db.recordArtifacts(stageRun: train, [art("artifacts/train/adapter.safetensors", "checkpoint")])
        for id in [pretrain, pool, quality, train] { try db.setStatus(stageRun: id, .done, error: nil) }
    }

    static func withManifest(_ body: (ManifestDB) throws -> Void) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lineage-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try body(try manifest(dir))
    }

    /// Every stage run is one section, every artifact is printed once (the 2000-item groups on one line each), and
    /// what a stage run read is one line per upstream stage run with counts by kind.
    @Test func textPrintsEachStageRunAndArtifactOnceWithFanInCollapsed() throws {
        try Self.withManifest { db in
            let text = try ManifestReport.lineage(db, path: "artifacts/train/adapter.safetensors")
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            #expect(lines.count < 40, "\(lines.count) lines:\n\(text)")
            for stage in ["train", "quality", "pool", "pretrain"] {
                #expect(lines.filter { $0.hasPrefix("[") && $0.contains("] \(stage) (stage run") }.count == 1, "\(stage):\n\(text)")
            }
            #expect(lines.filter { $0.hasPrefix("[") }.map { $0.prefix(3) } == ["[0]", "[1]", "[1]", "[1]"])
            #expect(text.contains("lineage: 4 stage run(s), \(3 * Self.items + 4) artifact(s)"))
            for single in ["artifacts/train/adapter.safetensors", "artifacts/pretrain/w.safetensors", "artifacts/pretrain/w.json",
                           "artifacts/quality/auroc.json"] {
                #expect(lines.filter { $0.hasPrefix("  made \(single) ") }.count == 1, "\(single):\n\(text)")
            }
            #expect(text.contains("  made 2000 quality-map, "), "\(text)")
            #expect(text.contains(", items 'p0000' .. 'p1999': artifacts/quality/p0000.safetensors .. artifacts/quality/p1999.safetensors\n"))
            #expect(text.contains("  made 2000 generated, "))
            // The fan-in: train read 6003 artifacts, three lines.
            #expect(text.contains("[0] train (stage run 4, done)\n  made artifacts/train/adapter.safetensors"))
            #expect(text.contains("  read 1 checkpoint, 1 record from pretrain (stage run 1, done)\n"
                                  + "  read 2000 generated, 2000 prompt from pool (stage run 2, done)\n"
                                  + "  read 2000 quality-map, 1 table from quality (stage run 3, done)\n"), "\(text)")
            #expect(text.contains("[1] pretrain (stage run 1, done)\n  made artifacts/pretrain/w.safetensors"))
            #expect(text.components(separatedBy: "  read nothing recorded\n").count == 2)
        }
    }

    @Test func depthStopsFollowingReads() throws {
        try Self.withManifest { db in
            let zero = try ManifestReport.lineage(db, path: "artifacts/train/adapter.safetensors", depth: 0)
            #expect(zero.contains("[0] train (stage run 4, done)\n  made artifacts/train/adapter.safetensors")
                    && zero.hasSuffix("  read: not followed (--depth 0)\n"), "\(zero)")
            #expect(!zero.contains("[1]"))
            let one = try ManifestReport.lineage(db, path: "artifacts/quality/p0007.safetensors", depth: 1)
            #expect(one.contains("  <- quality (stage run 3, done), item 'p0007'"), "\(one)")
            #expect(one.contains("[1] pretrain (stage run 1, done)\n") && one.contains("[1] pool (stage run 2, done)\n"))
            #expect(one.components(separatedBy: "read: not followed (--depth 1)").count - 1 == 2)
            // pool's reads are not followed, so pretrain's artifacts count once (quality read them itself).
            #expect(one.contains("lineage: 3 stage run(s), \(2 * Self.items + 3) artifact(s)"))
            #expect(try ManifestReport.lineage(db, path: "artifacts/quality/p0007.safetensors", depth: 2)
                    == (try ManifestReport.lineage(db, path: "artifacts/quality/p0007.safetensors")))
        }
    }

    /// The DOT output is a well-formed digraph: each statement a node or an edge, each node declared once, each edge
    /// between declared nodes; stage runs are boxes, per-kind groups folders labelled with their count.
    @Test func dotIsOneGraphOfDeclaredNodes() throws {
        try Self.withManifest { db in
            let dot = try ManifestReport.lineage(db, path: "artifacts/train/adapter.safetensors", format: .dot)
            let lines = dot.split(separator: "\n").map(String.init)
            #expect(lines.first == "digraph lineage {" && lines.last == "}")
            let node = try Regex(#"^  ([a-z][0-9_]+) \[shape=(box|note|folder)(, style=bold)?, label="((?:[^"\\]|\\.)*)"\];$"#)
            let edge = try Regex(#"^  ([a-z][0-9_]+) -> ([a-z][0-9_]+)( \[label="[0-9]+"\])?;$"#)
            var declared: [String: String] = [:], edges: [(String, String)] = []
            for l in lines.dropFirst(3).dropLast() {
                if let m = try node.wholeMatch(in: l) {
                    let id = String(m.output[1].substring!)
                    #expect(declared[id] == nil, "\(id) declared twice")
                    declared[id] = String(m.output[4].substring!)
                } else if let m = try edge.wholeMatch(in: l) {
                    edges.append((String(m.output[1].substring!), String(m.output[2].substring!)))
                } else {
                    Issue.record("not a node or an edge: '\(l)'")
                }
            }
            for (a, b) in edges { #expect(declared[a] != nil && declared[b] != nil, "\(a) -> \(b)") }
            #expect(Set(edges.map { "\($0.0)>\($0.1)" }).count == edges.count, "an edge repeats")
            #expect(declared.count == 4 + 1 + 2 + 3 + 1)   // stage runs, the adapter, weights + record, 3 groups, auroc.json
            #expect(declared.values.filter { $0 == "2000 quality-map" || $0 == "2000 generated" || $0 == "2000 prompt" }.count == 3)
            #expect(declared.values.contains(#"train\nstage run 4 (done)"#))
            #expect(lines.contains { $0.contains("style=bold") && $0.contains("artifacts/train/adapter.safetensors") })
            // pretrain's two files go to pool, quality and train: 2 x 3 edges, plus 2 from pretrain itself.
            let weights = declared.first { $0.value == "artifacts/pretrain/w.safetensors" }!.key
            #expect(edges.filter { $0.0 == weights }.map(\.1).sorted() == ["r2", "r3", "r4"])
        }
    }
}
