import Foundation
import Report
import World

/// Parsers of the upstream tables the report shows next to the bench numbers.
public enum UpstreamTables {
    /// ssl-finetune-vit's `patch-matching.json` ({rows: [{source, model: before|after, block, exact:
    /// {correct, total}}]}) -> one row per (source, block) with the exact-match percent before and after.
    public static func patchMatching(_ data: Data, path: String) throws(BenchError) -> [PatchMatchingRow] {
        struct Count: Decodable { var correct: Int; var total: Int }
        struct Row: Decodable { var source: String; var model: String; var block: Int; var exact: Count }
        struct Doc: Decodable { var rows: [Row] }
        let doc: Doc
        do { doc = try JSONDecoder().decode(Doc.self, from: data) } catch {
            throw .badFile(path: path, reason: "not a patch-matching table: \(error)", hint: "rerun ssl-finetune-vit")
        }
        func pct(_ c: Count) -> Double { c.total > 0 ? 100 * Double(c.correct) / Double(c.total) : 0 }
        var out: [PatchMatchingRow] = []
        for r in doc.rows where r.model == "before" {
            let after = doc.rows.first { $0.model == "after" && $0.source == r.source && $0.block == r.block }
            out.append(PatchMatchingRow(source: r.source, block: r.block, beforePct: pct(r.exact),
                                        afterPct: after.map { pct($0.exact) } ?? .nan, cells: r.exact.total))
        }
        return out.filter { $0.afterPct.isFinite }.sorted { ($0.source, $0.block) < ($1.source, $1.block) }
    }

    /// patch-quality's `auroc.json` ({block, blocks?: {<vit>: block}, samples, models: {<vit>: {auroc?, positives, negatives, low?, high?}},
    /// byDefect?: {<vit>: {<kind>: ...}}}) -> one row per ViT with an AUROC (patches = positives + negatives,
    /// images = samples), then its per-kind rows (images = nil: the kinds split the samples), each with its
    /// positives and whether the kind keeps the reference's content (World `Defect.keepsReferenceContent`).
    public static func auroc(_ data: Data, path: String) throws(BenchError) -> [AUROCRow] {
        struct Result: Decodable { var auroc: Double?; var positives: Int; var negatives: Int; var low: Double?; var high: Double? }
        struct Doc: Decodable {
            var block: Int; var samples: Int; var models: [String: Result]; var byDefect: [String: [String: Result]]?
            /// Per model (the original ViT is read at its last block); older tables have `block` only.
            var blocks: [String: Int]?
        }
        let doc: Doc
        do { doc = try JSONDecoder().decode(Doc.self, from: data) } catch {
            throw .badFile(path: path, reason: "not an AUROC table: \(error)", hint: "rerun patch-quality")
        }
        return doc.models.keys.sorted().flatMap { k -> [AUROCRow] in
            let r = doc.models[k]!
            guard let a = r.auroc else { return [] }
            let kinds = doc.byDefect?[k] ?? [:]
            let block = doc.blocks?[k] ?? doc.block
            return [AUROCRow(vit: k, block: block, auroc: a, patches: r.positives + r.negatives, images: doc.samples,
                             positives: r.positives, low: r.low, high: r.high)]
                + kinds.keys.sorted().compactMap { kind in
                    let x = kinds[kind]!
                    return x.auroc.map { AUROCRow(vit: k, block: block, auroc: $0, patches: x.positives + x.negatives, images: nil,
                                                  defect: kind, positives: x.positives,
                                                  keepsReferenceContent: Defect.keepsReferenceContent(kind: kind),
                                                  low: x.low, high: x.high) }
                }
        }
    }
}
