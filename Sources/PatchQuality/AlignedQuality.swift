/// The aligned patch quality (beyond the paper; issue 16 item 3): each generated patch compared with the
/// patch at the same place of the expected image (`ObjectAlignment.expected`: the reference object warped
/// onto the generated image), so content in the wrong place counts, which the paper's q_g (a max over all
/// reference patches) cannot see by construction:
///   q_a[i] = normalise(cos(F_g[i], F_e[i]))   for i in fg(G), else 1
/// with the same normalisation as q_g (`QualityNormalization`; min-max over the foreground cells).
/// q_a replaces q_g rather than being combined with it: on the defect benchmark (256 samples, finetuned ViT,
/// block 1) q_a alone scores AUROC 0.855 and min(q_g, q_a) 0.731, because q_g's low values on clean cells
/// (a boundary cell matched against a clean-background reference) dominate any minimum (docs/PATCHQUALITY.md).
public enum AlignedQuality {
    /// q_a of generated features against the expected image's features on the same grid.
    public static func positional(generated g: PatchFeatures, expected e: PatchFeatures, generatedForeground fg: [Bool]?,
                                  normalization: QualityNormalization) -> [Float] {
        precondition(g.rows == e.rows && g.columns == e.columns && g.dim == e.dim,
                     "AlignedQuality: generated \(g.rows)x\(g.columns)x\(g.dim) vs expected \(e.rows)x\(e.columns)x\(e.dim)")
        let mask = QualityMaps.effective(fg, g.count)
        precondition(mask.count == g.count, "AlignedQuality: mask of \(mask.count) cells for \(g.count)")
        let cosines = (0..<g.count).map { mask[$0] ? g.cosine($0, e, $0) : 1 }
        return QualityMaps.normalise(cosines, mask: mask, normalization: normalization)
    }
}
