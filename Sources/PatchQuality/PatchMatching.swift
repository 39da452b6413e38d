import World

/// Correct / evaluated cell counts of the patch-matching score (METHODS 4).
public struct MatchCount: Sendable, Equatable, Codable {
    public var correct = 0
    public var total = 0
    public init(correct: Int = 0, total: Int = 0) { self.correct = correct; self.total = total }
    /// correct / total in percent (0 when nothing was evaluated).
    public var percent: Double { total > 0 ? 100 * Double(correct) / Double(total) : 0 }
    public static func + (a: MatchCount, b: MatchCount) -> MatchCount {
        MatchCount(correct: a.correct + b.correct, total: a.total + b.total)
    }
}

/// The patch-matching score of PatchDPO Table 1 (METHODS 4) for one image pair (1, k):
/// for every cell of image 1 whose centre maps inside image k under H_1k, predict the cell of
/// image k with the most similar feature (max cosine; the first such cell on ties); it is correct
/// when the predicted cell is the cell containing H_1k(centre), or, with `tolerance` 1, one of its
/// 8 neighbours (Chebyshev distance <= tolerance).
/// Pixel convention (HPatches): pixel centres at integers; cell (r, c) of a `patch`-pixel grid
/// covers x in [c p - 0.5, (c + 1) p - 0.5), and its centre is (c p + (p - 1) / 2, r p + (p - 1) / 2).
public enum PatchMatching {
    public static func match(_ f1: PatchFeatures, _ fk: PatchFeatures, homography h: Homography, patch: Int,
                             tolerance: Int = 0) -> MatchCount {
        precondition(f1.dim == fk.dim && patch > 0 && tolerance >= 0,
                     "PatchMatching.match: dims \(f1.dim)/\(fk.dim), patch \(patch), tolerance \(tolerance)")
        let width = Double(fk.columns * patch), height = Double(fk.rows * patch)
        var count = MatchCount()
        for r in 0..<f1.rows {
            for c in 0..<f1.columns {
                let cx = Double(c * patch) + Double(patch - 1) / 2, cy = Double(r * patch) + Double(patch - 1) / 2
                let (x, y) = h.apply(cx, cy)
                guard x.isFinite, y.isFinite, x >= -0.5, x < width - 0.5, y >= -0.5, y < height - 0.5 else { continue }
                let tc = Int(((x + 0.5) / Double(patch)).rounded(.down)), tr = Int(((y + 0.5) / Double(patch)).rounded(.down))
                let i = r * f1.columns + c
                var best = -Float.infinity, arg = 0
                for k in 0..<fk.count {
                    let s = f1.cosine(i, fk, k)
                    if s > best { best = s; arg = k }
                }
                let pr = arg / fk.columns, pc = arg % fk.columns
                count.total += 1
                if abs(pr - tr) <= tolerance && abs(pc - tc) <= tolerance { count.correct += 1 }
            }
        }
        return count
    }

    /// H expressed for images resized from (w1, h1) -> image 1 at (s1w, s1h) and (wk, hk) -> (skw, skh):
    /// H' = A_k H A_1^-1 with A mapping pixel centres, x' = (x + 0.5) s / w - 0.5.
    public static func rescaled(_ h: Homography, from1 w1: Int, _ h1: Int, to1 s1w: Int, _ s1h: Int,
                                fromK wk: Int, _ hk: Int, toK skw: Int, _ skh: Int) -> Homography {
        func a(_ w: Int, _ hh: Int, _ sw: Int, _ sh: Int) -> Homography {
            let sx = Double(sw) / Double(w), sy = Double(sh) / Double(hh)
            return Homography([sx, 0, 0.5 * sx - 0.5, 0, sy, 0.5 * sy - 0.5, 0, 0, 1])
        }
        return a(wk, hk, skw, skh).composed(after: h).composed(after: a(w1, h1, s1w, s1h).inverse)
    }
}
