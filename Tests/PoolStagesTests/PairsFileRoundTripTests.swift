import Foundation
import PatchQuality
import Testing
@testable import PoolStages

/// score-and-pair's two pairs files, written as the stage writes them, read back by the one reader patch-quality and
/// dpo-train use (`PatchQuality.PairsFile`): the same pairs, under the keys the stages name quality maps by.
@Suite struct PairsFileRoundTripTests {
    static let prompts = [
        ScoredPrompt(key: "p00000", prompt: "a mug on snow", reference: "artifacts/generate-pool/pool/p00000/reference.png",
                     images: ["artifacts/generate-pool/pool/p00000/gen-0.png", "artifacts/generate-pool/pool/p00000/gen-1.png"],
                     scores: [["total": 0.2], ["total": 0.9]], decision: Pairing.decide(key: "p00000", scores: [0.2, 0.9], minGap: 0)),
        ScoredPrompt(key: "p00001", prompt: "a vase in a forest", reference: "artifacts/generate-pool/pool/p00001/reference.png",
                     images: ["artifacts/generate-pool/pool/p00001/gen-0.png", "artifacts/generate-pool/pool/p00001/gen-1.png",
                              "artifacts/generate-pool/pool/p00001/gen-2.png"],
                     scores: [["total": 1], ["total": 1], ["total": 1]], decision: Pairing.decide(key: "p00001", scores: [1, 1, 1], minGap: 0)),
        ScoredPrompt(key: "p00002", prompt: "a robot toy", reference: "artifacts/generate-pool/pool/p00002/reference.png",
                     images: ["artifacts/generate-pool/pool/p00002/gen-0.png", "artifacts/generate-pool/pool/p00002/gen-1.png"],
                     scores: [["total": 3], ["total": -1]], decision: Pairing.decide(key: "p00002", scores: [3, -1], minGap: 0)),
    ]

    @Test func patchDPOPairsRoundTrip() throws {
        let written = PoolReports.patchDPOPairs(Self.prompts)
        let read = try PatchQuality.PairsFile.parse(try PoolJSON.encode(written), path: "patchdpo-pairs.json")
        #expect(written.count == 7)
        #expect(read == written.map { PairEntry(key: $0.key, reference: $0.reference, generated: $0.generated) })
    }

    @Test func poolPairsRoundTrip() throws {
        let written = PoolStages.PairsFile(prompts: Self.prompts, failed: [FailedPrompt(key: "p00003", path: "x.png", reason: "not a PNG")],
                                           minGap: 0, weights: ["vit_cls": 1])
        #expect(written.pairs.map(\.key) == ["p00000", "p00002"] && written.dropped == 1)
        let read = try PatchQuality.PairsFile.parse(try PoolJSON.encode(written), path: "pairs.json", members: .winnerLoser)
        #expect(read == written.pairs.map { PairEntry(key: $0.key, first: $0.winner, second: $0.loser) })
        #expect(read[0].first.hasSuffix("p00000/gen-1.png") && read[1].second.hasSuffix("p00002/gen-1.png"))
        // The stage's own decoder reads the same file back whole.
        #expect(try JSONDecoder().decode(PoolStages.PairsFile.self, from: try PoolJSON.encode(written)) == written)
    }
}
