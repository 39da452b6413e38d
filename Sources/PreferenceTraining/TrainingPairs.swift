import Foundation
import Objectives
import PatchQuality

/// The encoded pairs each run trains on, read once per pairs file, quality-map ViT and caption kind:
/// score-and-pair's `pairs.json` (HG-DPO's pool winner/loser pairs: diffusion-dpo, hg-dpo, sft) or
/// `patchdpo-pairs.json` (reference/generated, with the run's ViT's quality maps for the PatchDPO losses).
public final class TrainingPairs {
    public let encoder: PairEncoder
    /// dco's text for its reference rows: the comprehensive caption (DCO 4.3) instead of the pool prompt.
    public let comprehensiveDCOCaptions: Bool
    let log: (String) -> Void
    var encoded: [String: [EncodedPair]] = [:]

    public init(encoder: PairEncoder, comprehensiveDCOCaptions: Bool, log: @escaping (String) -> Void) {
        self.encoder = encoder
        self.comprehensiveDCOCaptions = comprehensiveDCOCaptions
        self.log = log
    }

    /// The pairs of `run`, encoded.
    public func pairs(for run: DPORun) throws -> [EncodedPair] {
        let kind = run.kind
        let name = kind.usesPoolPairs ? "pairs.json" : "patchdpo-pairs.json"
        let maps = kind.usesPoolPairs ? nil : run.vit
        // DCO trains on the reference images; DCO 4.3 describes them with comprehensive captions.
        let comprehensive = kind == .dco && comprehensiveDCOCaptions
        let generatedMap = kind.generatedQualityMap
        let cacheKey = name + "|" + (maps.map { $0 + "/" + generatedMap } ?? "") + (comprehensive ? "|comprehensive" : "")
        if let e = encoded[cacheKey] { return e }
        let upstream = encoder.pool.upstream
        let a = try upstream.artifact(name, of: "score-and-pair")
        let listed = try Self.parse(try upstream.data(a, of: "score-and-pair"), path: upstream.url(a).path, pool: kind.usesPoolPairs)
        let e = try encoder.encode(listed, mapsOf: maps, generatedMap: generatedMap, comprehensiveCaptions: comprehensive)
        log("encoded \(e.count) pairs from \(name)" + (maps.map { " with the \($0) ViT's quality maps (\(generatedMap))" } ?? "")
            + (comprehensive ? " with comprehensive captions (DCO 4.3)" : ""))
        encoded[cacheKey] = e
        return e
    }

    /// A pairs file (`pool`: winner/loser, else reference/generated) by `PairsFile`; an unreadable or empty
    /// one is `DPOTrainError.badPairs`.
    public static func parse(_ data: Data, path: String, pool: Bool) throws -> [PairEntry] {
        let pairs: [PairEntry]
        do {
            pairs = try PairsFile.parse(data, path: path, members: pool ? .winnerLoser : .referenceGenerated)
        } catch let PatchQualityError.badPairs(p, detail) {
            throw DPOTrainError.badPairs(path: p, detail: detail)
        }
        if pairs.isEmpty { throw DPOTrainError.badPairs(path: path, detail: "lists no pairs") }
        return pairs
    }
}
