import Imaging
import Models
import PatchQuality

/// The foreground mean patch-quality scorer (METHODS 7, PatchDPO 4.2.1) on the PatchQuality library:
/// F = L2-normalised patch tokens of ViT block `block` (capped at the ViT's depth) for the reference r
/// and a generated image g (both resized to the ViT input), masks = `PatchMask.cells` of the
/// foreground estimators' coverage (at the ViT input size, `patch`-pixel cells; the `segmenter` estimator
/// runs the given `Segmenter`), then
///   patch_quality(g) = mean over g's foreground cells of q_g,  q_g[i] = norm(max_{k in fg(r)} cos(F_g[i], F_r[k])).
public struct PatchQualityScorer: Sendable {
    public var block: Int
    public var normalization: QualityNormalization
    public var referenceForeground: ForegroundEstimator
    public var generatedForeground: ForegroundEstimator
    /// RGB distance (0...255) from the border colour that counts as foreground (`border` estimator).
    public var borderThreshold: Float
    /// A cell is foreground when more than this share of its pixels is.
    public var cellThreshold: Float

    public init(block: Int = 7, normalization: QualityNormalization = .cosine, referenceForeground: ForegroundEstimator = .border,
                generatedForeground: ForegroundEstimator = .border, borderThreshold: Float = 40, cellThreshold: Float = 0.25) {
        self.block = block; self.normalization = normalization; self.referenceForeground = referenceForeground
        self.generatedForeground = generatedForeground; self.borderThreshold = borderThreshold; self.cellThreshold = cellThreshold
    }

    /// Whether an estimator of this scorer is `segmenter` (the caller must pass one to `scores`).
    public var needsSegmenter: Bool { referenceForeground.needsSegmenter || generatedForeground.needsSegmenter }

    /// Mean foreground q_g of each generated image against `reference`; `segmenter` is required when
    /// `needsSegmenter`.
    public func scores(_ vit: ViT, segmenter: Segmenter? = nil, reference: Image, images: [Image]) -> [Double] {
        precondition(!needsSegmenter || segmenter != nil, "PatchQualityScorer: a `segmenter` estimator needs a Segmenter")
        let s = vit.config.imageSize, p = vit.config.patchSize
        let b = min(max(1, block), vit.config.depth)
        let all = ([reference] + images).map { im -> Image in
            let rgb = im.converted(toChannels: 3)
            return rgb.width == s && rgb.height == s ? rgb : rgb.resizedBilinear(width: s, height: s)
        }
        let feats = PatchFeatureExtractor.features(vit, images: all, blocks: [b])
        func cells(_ im: Image, _ e: ForegroundEstimator) -> [Bool] {
            PatchMask.cells(e.coverage(im, threshold: borderThreshold, segmenter: segmenter), width: s, height: s, patch: p,
                            threshold: cellThreshold)
        }
        let fgR = cells(all[0], referenceForeground)
        return (1..<all.count).map { i in
            let fgG = cells(all[i], generatedForeground)
            let q = QualityMaps(generated: feats[i][b]!, reference: feats[0][b]!, generatedForeground: fgG,
                                referenceForeground: fgR, normalization: normalization)
            return Double(q.meanGeneratedQuality(foreground: fgG))
        }
    }
}

extension PatchQualityScorer {
    /// Settings from config strings; an unknown name is `PoolError.badConfig` naming `keyPrefix` + the key.
    public static func parse(block: Int, normalization: String, fgReference: String, fgGenerated: String,
                             borderThreshold: Double, cellThreshold: Double, keyPrefix: String = "pq_") throws(PoolError) -> PatchQualityScorer {
        guard let n = QualityNormalization(rawValue: normalization) else {
            throw .badConfig(key: keyPrefix + "normalization",
                             reason: "`\(normalization)` is not one of \(QualityNormalization.allCases.map(\.rawValue))")
        }
        func estimator(_ v: String, _ key: String) throws(PoolError) -> ForegroundEstimator {
            guard let e = ForegroundEstimator(rawValue: v) else {
                throw .badConfig(key: keyPrefix + key, reason: "`\(v)` is not one of \(ForegroundEstimator.allCases.map(\.rawValue))")
            }
            return e
        }
        return PatchQualityScorer(block: block, normalization: n, referenceForeground: try estimator(fgReference, "fg_reference"),
                                  generatedForeground: try estimator(fgGenerated, "fg_generated"),
                                  borderThreshold: Float(borderThreshold), cellThreshold: Float(cellThreshold))
    }
}
