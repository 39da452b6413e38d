import TensorCore

/// How a cosine map is brought to [0, 1] (METHODS 2).
public enum QualityNormalization: String, Sendable, CaseIterable {
    /// q = (cos + 1) / 2 (the default).
    case cosine
    /// q = (cos - min) / (max - min) over the map's foreground cells; a map whose range is
    /// below 1e-5 (constant up to rounding) becomes 1.
    case minMax = "min-max"
}

/// The two patch-quality maps of a (reference, generated) pair (PatchDPO 4.2.1, METHODS 2), each
/// `rows` x `columns`, row-major, values in [0, 1] (1 = good):
///   q_g[i] = max_{k in fg(R)} cos(F_g[i], F_r[k])   for i in fg(G), else 1
///   q_r[k] = max_{i in fg(G)} cos(F_r[k], F_g[i])   for k in fg(R), else 1
/// then normalised (`QualityNormalization`) over the foreground cells. When the other image has no
/// foreground cell at all, the max runs over all its cells (an empty mask means the estimator
/// failed, not that nothing matches).
public struct QualityMaps: Sendable, Equatable {
    public let rows: Int
    public let columns: Int
    /// Generated -> reference, [rows * columns].
    public var qg: [Float]
    /// Reference -> generated, [rows * columns].
    public var qr: [Float]

    /// Computes both maps. Masks are per cell (true = foreground); nil means every cell.
    public init(generated g: PatchFeatures, reference r: PatchFeatures,
                generatedForeground fgG: [Bool]? = nil, referenceForeground fgR: [Bool]? = nil,
                normalization: QualityNormalization = .cosine) {
        precondition(g.rows == r.rows && g.columns == r.columns && g.dim == r.dim,
                     "QualityMaps: generated \(g.rows)x\(g.columns)x\(g.dim) vs reference \(r.rows)x\(r.columns)x\(r.dim)")
        precondition(fgG.map { $0.count == g.count } ?? true && fgR.map { $0.count == r.count } ?? true,
                     "QualityMaps: masks of \(fgG?.count ?? -1)/\(fgR?.count ?? -1) cells for \(g.count) cells")
        rows = g.rows; columns = g.columns
        let maskG = Self.effective(fgG, g.count), maskR = Self.effective(fgR, r.count)
        qg = Self.directed(from: g, fromMask: fgG ?? maskG, to: r, toMask: maskR, normalization: normalization)
        qr = Self.directed(from: r, fromMask: fgR ?? maskR, to: g, toMask: maskG, normalization: normalization)
    }

    /// An all-true mask when `mask` is nil or has no foreground cell.
    static func effective(_ mask: [Bool]?, _ n: Int) -> [Bool] {
        guard let mask, mask.contains(true) else { return [Bool](repeating: true, count: n) }
        return mask
    }

    /// A cosine range below this is rounding noise (identical features give cos 1 +- 1e-7), so
    /// min-max leaves such a map at 1 rather than stretching the noise to [0, 1].
    static let minMaxFloor: Float = 1e-5

    /// q[i] = normalised max_{k in toMask} cos(from[i], to[k]) for i in fromMask, else 1.
    static func directed(from a: PatchFeatures, fromMask: [Bool], to b: PatchFeatures, toMask: [Bool],
                         normalization: QualityNormalization) -> [Float] {
        var cosines = [Float](repeating: 1, count: a.count)
        for i in 0..<a.count where fromMask[i] {
            var best = -Float.infinity
            for k in 0..<b.count where toMask[k] { best = max(best, a.cosine(i, b, k)) }
            cosines[i] = best
        }
        return normalise(cosines, mask: fromMask, normalization: normalization)
    }

    /// Cosines brought to [0, 1] over the `mask` cells (`QualityNormalization`); other cells are 1.
    static func normalise(_ cosines: [Float], mask: [Bool], normalization: QualityNormalization) -> [Float] {
        let fg = (0..<cosines.count).filter { mask[$0] }
        var q = [Float](repeating: 1, count: cosines.count)
        switch normalization {
        case .cosine:
            for i in fg { q[i] = min(1, max(0, (cosines[i] + 1) / 2)) }
        case .minMax:
            let lo = fg.map { cosines[$0] }.min() ?? 0, hi = fg.map { cosines[$0] }.max() ?? 0
            for i in fg { q[i] = hi - lo > minMaxFloor ? (cosines[i] - lo) / (hi - lo) : 1 }
        }
        return q
    }

    /// Mean of q_g over the generated image's foreground cells (all cells when `foreground` is nil
    /// or empty): the "patch-quality mean over foreground" scorer of METHODS 7.
    public func meanGeneratedQuality(foreground: [Bool]? = nil) -> Float {
        let mask = Self.effective(foreground, qg.count)
        precondition(mask.count == qg.count, "meanGeneratedQuality: mask of \(mask.count) cells for \(qg.count)")
        let cells = (0..<qg.count).filter { mask[$0] }
        return cells.reduce(0) { $0 + qg[$1] } / Float(cells.count)
    }

    /// Bilinear upsampling (PyTorch `interpolate`, align_corners = False) of a rows x columns map to
    /// `height` x `width`, the resolution of the noise the loss is computed on.
    public static func upsample(_ map: [Float], rows: Int, columns: Int, height: Int, width: Int) -> [Float] {
        precondition(map.count == rows * columns && height > 0 && width > 0,
                     "QualityMaps.upsample: \(map.count) values for \(rows)x\(columns) to \(height)x\(width)")
        let t = Tensor(shape: [1, 1, rows, columns], scalars: map)
        return Kernels.resizeBilinear(t, height: height, width: width).scalars
    }
}

/// Per-cell labels from per-pixel masks.
public enum PatchMask {
    /// Cell (r, c) of a `patch`-pixel grid is true when the mean of `pixels` (row-major
    /// width x height, e.g. a foreground coverage in [0, 1] or a 0/1 defect mask) over its pixels
    /// exceeds `threshold`. Width and height must be multiples of `patch`.
    public static func cells(_ pixels: [Float], width: Int, height: Int, patch: Int, threshold: Float) -> [Bool] {
        precondition(pixels.count == width * height && patch > 0 && width % patch == 0 && height % patch == 0,
                     "PatchMask.cells: \(pixels.count) pixels for \(width)x\(height), patch \(patch)")
        let rows = height / patch, cols = width / patch
        var out = [Bool](repeating: false, count: rows * cols)
        for r in 0..<rows {
            for c in 0..<cols {
                var s: Float = 0
                for y in (r * patch)..<((r + 1) * patch) {
                    for x in (c * patch)..<((c + 1) * patch) { s += pixels[y * width + x] }
                }
                out[r * cols + c] = s / Float(patch * patch) > threshold
            }
        }
        return out
    }

    /// `cells` of a 0/1 byte mask.
    public static func cells(_ mask: [UInt8], width: Int, height: Int, patch: Int, threshold: Float) -> [Bool] {
        cells(mask.map { Float($0) }, width: width, height: height, patch: patch, threshold: threshold)
    }
}
