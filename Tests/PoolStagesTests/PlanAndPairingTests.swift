import Foundation
import Testing
import World
@testable import PoolStages

@Test func planIsDeterministicAndSeedDependent() {
    let a = PoolPlanner.plan(count: 12, seed: 7, imagesPerPrompt: 4, subjectsPerCategory: 5)
    let b = PoolPlanner.plan(count: 12, seed: 7, imagesPerPrompt: 4, subjectsPerCategory: 5)
    let c = PoolPlanner.plan(count: 12, seed: 8, imagesPerPrompt: 4, subjectsPerCategory: 5)
    #expect(a == b)
    #expect(a != c)
    #expect(a.map(\.key) == (0..<12).map { String(format: "p%05d", $0) })
}

@Test func planGrowsAppendOnly() {
    let small = PoolPlanner.plan(count: 5, seed: 3, imagesPerPrompt: 3, subjectsPerCategory: 4)
    let big = PoolPlanner.plan(count: 40, seed: 3, imagesPerPrompt: 3, subjectsPerCategory: 4)
    #expect(Array(big.prefix(5)) == small)
    #expect(big.count == 40)
}

@Test func planUsesTrainingSubjectsDistinctSeedsAndPromptNamesCategory() throws {
    let plans = PoolPlanner.plan(count: 60, seed: 11, imagesPerPrompt: 6, subjectsPerCategory: 3)
    var instances = Set<UInt64>()
    for p in plans {
        let s = try p.worldSubject()
        #expect(s.split == .train)
        instances.insert(s.instance)
        #expect(Set(p.seeds).count == 6)
        #expect(p.prompt.contains(s.category.noun))
        #expect(p.prompt.contains(Background(rawValue: p.background)!.phrase))
    }
    // subjectsPerCategory = 3: train instances 0, 1, 2 only, and more than one of them is used.
    #expect(instances.isSubset(of: [0, 1, 2]) && instances.count > 1)
    let allSeeds = plans.flatMap(\.seeds)
    #expect(Set(allSeeds).count == allSeeds.count)
}

@Test func unknownCategoryIsATypedError() {
    var p = PoolPlanner.plan(count: 1, seed: 1, imagesPerPrompt: 1, subjectsPerCategory: 1)[0]
    p.subject.category = "teapotx"
    #expect(throws: PoolError.self) { try p.worldSubject() }
}

@Test func pairingPicksArgmaxAndArgmin() {
    let d = Pairing.decide(key: "p", scores: [0.2, 0.9, -0.5, 0.1], minGap: 0.1)
    #expect(d.winner == 1 && d.loser == 2 && d.kept)
    #expect(abs(d.gap - 1.4) < 1e-12)
}

@Test func pairingDropsBelowGapAndKeepsAtGap() {
    let below = Pairing.decide(key: "p", scores: [0.5, 0.55], minGap: 0.1)
    #expect(!below.kept && below.winner == 1 && below.loser == 0)
    let at = Pairing.decide(key: "p", scores: [0.5, 0.75], minGap: 0.25)
    #expect(at.kept)
}

@Test func pairingTies() {
    // Winner: first index of the max; loser: last index of the min.
    let d = Pairing.decide(key: "p", scores: [1, 3, 0, 3, 0], minGap: 0)
    #expect(d.winner == 1 && d.loser == 4 && d.kept)
    let tied = Pairing.decide(key: "p", scores: [2, 2, 2], minGap: 0)
    #expect(!tied.kept && tied.winner == nil)
    #expect(!Pairing.decide(key: "p", scores: [1], minGap: 0).kept)
    #expect(!Pairing.decide(key: "p", scores: [1, .nan], minGap: 0).kept)
}

@Test func weightedTotalAndPairsFile() {
    #expect(Pairing.total(["a": 2, "b": 3, "c": 100], weights: ["a": 0.5, "b": 2]) == 7)
    let kept = ScoredPrompt(key: "p00000", prompt: "x", reference: "r.png", images: ["g0", "g1"],
                            scores: [["total": 1], ["total": 0]],
                            decision: Pairing.decide(key: "p00000", scores: [1, 0], minGap: 0.5))
    let dropped = ScoredPrompt(key: "p00001", prompt: "y", reference: "r2.png", images: ["h0", "h1"],
                               scores: [["total": 1], ["total": 1]],
                               decision: Pairing.decide(key: "p00001", scores: [1, 1], minGap: 0.5))
    let f = PairsFile(prompts: [kept, dropped], failed: [], minGap: 0.5, weights: [:])
    #expect(f.pairs.count == 1 && f.pairs[0].winner == "g0" && f.pairs[0].loser == "g1")
    #expect(f.dropped == 1 && f.droppedReasons["p00001"] != nil)
    #expect(PoolReports.patchDPOPairs([kept, dropped]).map(\.generated) == ["g0", "g1", "h0", "h1"])
    #expect(PoolReports.patchDPOPairs([kept]).map(\.key) == ["p00000-g0", "p00000-g1"])
    let csv = PoolReports.csv([kept], scorers: ["vit_cls"]).split(separator: "\n")
    #expect(csv[0] == "key,image,vit_cls,total" && csv.count == 3)
}

@Test func notAPNGNamesThePath() {
    do {
        _ = try PoolReports.decodePNG(Data("hello".utf8), path: "pool/p00001/reference.png")
        Issue.record("decoded garbage")
    } catch {
        #expect("\(error)".contains("pool/p00001/reference.png"))
    }
}
