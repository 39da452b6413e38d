import Foundation
import Report
import Testing

@Test func benchResultsRoundTripThroughJSON() throws {
    let r = BenchResults(run: "t", config: ["seed": "1"],
                         protocolInfo: ProtocolInfo(dataset: "world", subjects: 1, promptsPerSubject: 2, imagesPerPrompt: 1,
                                                    resolution: 32, sampler: "DDIM", judges: []),
                         models: [ModelResult(name: "original", loss: nil, vit: nil, trainSeed: nil, setting: "all-references",
                                              perSubject: [SubjectScores(subject: "mug-0001", dino: 0.5, clipI: 0.4, clipT: 0.3, images: 2)])],
                         winRates: [WinRate(model: "dm", baseline: "original", scorer: "dino", wins: 1, ties: 0, losses: 1)])
    let back = try JSONDecoder().decode(BenchResults.self, from: JSONEncoder().encode(r))
    #expect(back == r)
    #expect(back.winRates[0].prompts == 2)
}
