import Foundation
import Imaging

/// One scored pool prompt: per-image scores (scorer -> value, plus `total`), and its pair decision.
public struct ScoredPrompt: Codable, Sendable, Equatable {
    public var key: String
    public var prompt: String
    /// Run-relative paths: the reference and each generated image (index = position).
    public var reference: String
    public var images: [String]
    public var scores: [[String: Double]]
    public var decision: PairDecision

    public init(key: String, prompt: String, reference: String, images: [String], scores: [[String: Double]], decision: PairDecision) {
        self.key = key; self.prompt = prompt; self.reference = reference; self.images = images
        self.scores = scores; self.decision = decision
    }
}

/// A prompt the stage could not score (unreadable or non-PNG image), with the file and the reason.
public struct FailedPrompt: Codable, Sendable, Equatable {
    public var key: String
    public var path: String
    public var reason: String

    public init(key: String, path: String, reason: String) { self.key = key; self.path = path; self.reason = reason }
}

/// `pairs.json`: the HG-DPO pairs (winner/loser image paths per kept prompt), the drop count and reasons.
public struct PairsFile: Codable, Sendable, Equatable {
    public struct Pair: Codable, Sendable, Equatable {
        public var key: String
        public var prompt: String
        public var reference: String
        public var winner: String
        public var loser: String
        public var winnerScore: Double
        public var loserScore: Double
    }
    public var minGap: Double
    public var weights: [String: Double]
    public var pairs: [Pair]
    public var dropped: Int
    public var droppedReasons: [String: String]
    public var failed: [FailedPrompt]

    public init(prompts: [ScoredPrompt], failed: [FailedPrompt], minGap: Double, weights: [String: Double]) {
        self.minGap = minGap; self.weights = weights; self.failed = failed
        var pairs: [Pair] = [], reasons: [String: String] = [:]
        for p in prompts {
            if let why = p.decision.dropped { reasons[p.key] = why; continue }
            let w = p.decision.winner!, l = p.decision.loser!
            pairs.append(Pair(key: p.key, prompt: p.prompt, reference: p.reference, winner: p.images[w], loser: p.images[l],
                              winnerScore: p.scores[w]["total"] ?? 0, loserScore: p.scores[l]["total"] ?? 0))
        }
        self.pairs = pairs; dropped = reasons.count; droppedReasons = reasons
    }
}

/// `patchdpo-pairs.json`: every (reference, generated) pair of the scored prompts (PatchDPO trains on all).
/// `key` is unique per pair, `<pool key>-<generated stem>` (e.g. `p00003-gen-1`): the name patch-quality
/// and dpo-train give the pair's quality map `q/<key>.safetensors`.
public struct PatchDPOPair: Codable, Sendable, Equatable {
    public var key: String
    public var poolKey: String
    public var prompt: String
    public var reference: String
    public var generated: String
    public var index: Int
}

public enum PoolReports {
    /// `scores.csv`: `key,image,<scorer...>,total`, one row per generated image, scorers sorted by name.
    public static func csv(_ prompts: [ScoredPrompt], scorers: [String]) -> String {
        var lines = [(["key", "image"] + scorers + ["total"]).joined(separator: ",")]
        for p in prompts {
            for (i, s) in p.scores.enumerated() {
                let vals = (scorers + ["total"]).map { s[$0].map { String(format: "%.6f", $0) } ?? "" }
                lines.append(([p.key, p.images[i]] + vals).joined(separator: ","))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The (reference, generated) pairs of `prompts`.
    public static func patchDPOPairs(_ prompts: [ScoredPrompt]) -> [PatchDPOPair] {
        prompts.flatMap { p in
            p.images.enumerated().map { i, g in
                PatchDPOPair(key: "\(p.key)-" + ((g as NSString).lastPathComponent as NSString).deletingPathExtension, poolKey: p.key,
                             prompt: p.prompt, reference: p.reference, generated: g, index: i)
            }
        }
    }

    /// Decodes PNG bytes; the error names `path` (the bytes may not be a PNG at all).
    public static func decodePNG(_ data: Data, path: String) throws(PoolError) -> Image {
        do { return try PNG.decode([UInt8](data), name: path) } catch {
            throw .badFile(path: path, reason: "not a readable PNG: \(error)", hint: "rerun generate-pool with --force to rewrite it")
        }
    }
}
