import Foundation

/// The HG-DPO pairing decision of one prompt (METHODS 7): winner = argmax of the total score,
/// loser = argmin; the pair is dropped when fewer than two images scored, a score is not finite,
/// or the gap max - min is below `minGap` (a gap of 0, all scores tied, is always dropped).
/// Ties: the winner is the FIRST index reaching the max, the loser the LAST index reaching the min,
/// so with at least two distinct scores winner != loser.
public struct PairDecision: Codable, Sendable, Equatable {
    public var key: String
    public var winner: Int?
    public var loser: Int?
    public var gap: Double
    /// nil when kept; otherwise why it was dropped.
    public var dropped: String?
    public var kept: Bool { dropped == nil }
}

public enum Pairing {
    /// Decides the pair of one prompt from its images' total scores.
    public static func decide(key: String, scores: [Double], minGap: Double) -> PairDecision {
        guard scores.count >= 2 else {
            return PairDecision(key: key, winner: nil, loser: nil, gap: 0, dropped: "fewer than 2 scored images (\(scores.count))")
        }
        guard scores.allSatisfy(\.isFinite) else {
            return PairDecision(key: key, winner: nil, loser: nil, gap: 0, dropped: "non-finite score")
        }
        var w = 0, l = 0
        for (i, s) in scores.enumerated() {
            if s > scores[w] { w = i }
            if s <= scores[l] { l = i }
        }
        let gap = scores[w] - scores[l]
        if gap <= 0 { return PairDecision(key: key, winner: nil, loser: nil, gap: 0, dropped: "all scores tied") }
        if gap < minGap {
            return PairDecision(key: key, winner: w, loser: l, gap: gap,
                                dropped: "gap \(String(format: "%.4g", gap)) below threshold \(minGap)")
        }
        return PairDecision(key: key, winner: w, loser: l, gap: gap, dropped: nil)
    }

    /// Weighted sum of named scores: total = sum_s weights[s] * scores[s] (scorers without a weight count 0).
    public static func total(_ scores: [String: Double], weights: [String: Double]) -> Double {
        weights.keys.sorted().reduce(0) { $0 + weights[$1]! * (scores[$1] ?? 0) }
    }
}
