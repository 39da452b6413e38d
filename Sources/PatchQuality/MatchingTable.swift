import Models
import World

/// One row of the patch-matching table (PatchDPO Table 1 shape): a data source, a model
/// (`before` = pretrained, `after` = SSL-finetuned), a block, and the exact and within-1-cell
/// scores over all sequences and over the viewpoint (`v_*`) and illumination (`i_*`) ones.
public struct MatchingRow: Sendable, Equatable, Codable {
    public var source: String
    public var model: String
    public var block: Int
    public var exact: MatchCount
    public var within1: MatchCount
    public var viewpointExact: MatchCount
    public var illuminationExact: MatchCount

    public static let csvHeader = "source,model,block,exact_pct,within1_pct,viewpoint_exact_pct,illumination_exact_pct,cells"

    public var csvLine: String {
        func f(_ c: MatchCount) -> String { String(format: "%.2f", c.percent) }
        return "\(source),\(model),\(block),\(f(exact)),\(f(within1)),\(f(viewpointExact)),\(f(illuminationExact)),\(exact.total)"
    }
}

/// Patch-matching score of a ViT over HPatches sequences (METHODS 4): images are resized to the
/// ViT's input size (homographies rescaled to match), pairs (1, k) for k = 2..6, cells pooled over
/// pairs and sequences, per block.
public enum MatchingEvaluator {
    public static func evaluate(_ vit: ViT, sequences: [HPatchesSequence], blocks: [Int], source: String,
                                model: String, batch: Int = 16) -> [MatchingRow] {
        let s = vit.config.imageSize, p = vit.config.patchSize
        var rows = blocks.map {
            MatchingRow(source: source, model: model, block: $0, exact: MatchCount(), within1: MatchCount(),
                        viewpointExact: MatchCount(), illuminationExact: MatchCount())
        }
        for seq in sequences {
            let feats = PatchFeatureExtractor.features(vit, images: seq.images, blocks: blocks, batch: batch)
            let i1 = seq.images[0]
            for k in 1..<seq.images.count {
                let ik = seq.images[k]
                let h = PatchMatching.rescaled(seq.homographies[k - 1], from1: i1.width, i1.height, to1: s, s,
                                               fromK: ik.width, ik.height, toK: s, s)
                for (j, block) in blocks.enumerated() {
                    let e = PatchMatching.match(feats[0][block]!, feats[k][block]!, homography: h, patch: p, tolerance: 0)
                    let w = PatchMatching.match(feats[0][block]!, feats[k][block]!, homography: h, patch: p, tolerance: 1)
                    rows[j].exact = rows[j].exact + e
                    rows[j].within1 = rows[j].within1 + w
                    if seq.name.hasPrefix("v_") { rows[j].viewpointExact = rows[j].viewpointExact + e }
                    if seq.name.hasPrefix("i_") { rows[j].illuminationExact = rows[j].illuminationExact + e }
                }
            }
        }
        return rows
    }
}
