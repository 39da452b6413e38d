import Foundation
import Imaging
import Testing
import World
@testable import PatchQuality

@Suite struct InputFormatTests {
    @Test func pairsFileForms() throws {
        let a = try PairsFile.parse(Data(#"{"pairs":[{"key":"p1","reference":"r.png","generated":["pool/p1/gen-0.png","pool/p1/gen-1.png"]}]}"#.utf8), path: "x")
        #expect(a == [PairEntry(key: "p1-gen-0", reference: "r.png", generated: "pool/p1/gen-0.png"),
                      PairEntry(key: "p1-gen-1", reference: "r.png", generated: "pool/p1/gen-1.png")])
        let b = try PairsFile.parse(Data(#"[{"reference":"a/pool/p7/reference.png","generated":"a/pool/p7/gen-3.png"},{"reference":"r","generated":"a/pool/p7/gen-3.png"}]"#.utf8), path: "x")
        #expect(b.map(\.key) == ["p7-gen-3", "p7-gen-3-2"])
    }

    @Test func pairsFileErrorsNameTheEntry() {
        #expect(throws: PatchQualityError.badPairs(path: "f.json", detail: "pairs[1] has no string `reference`")) {
            try PairsFile.parse(Data(#"[{"reference":"r","generated":"g"},{"generated":"g"}]"#.utf8), path: "f.json")
        }
        #expect(throws: PatchQualityError.badPairs(path: "f.json", detail: "pairs[0] has no `generated` path(s)")) {
            try PairsFile.parse(Data(#"{"pairs":[{"reference":"r"}]}"#.utf8), path: "f.json")
        }
        #expect(throws: PatchQualityError.self) { try PairsFile.parse(Data("{".utf8), path: "f.json") }
    }

    @Test func poolLayout() {
        let items = PoolItem.items(paths: [
            "artifacts/generate-pool/pool/p00001/gen-1.png", "artifacts/generate-pool/pool/p00001/reference.png",
            "artifacts/generate-pool/pool/p00001/gen-0.png", "artifacts/generate-pool/pool/p00000/prompt.json",
            "artifacts/generate-pool/pool/p00000/reference.png", "artifacts/generate-pool/other.txt",
        ])
        #expect(items == [
            PoolItem(key: "p00000", reference: "artifacts/generate-pool/pool/p00000/reference.png", generated: []),
            PoolItem(key: "p00001", reference: "artifacts/generate-pool/pool/p00001/reference.png",
                     generated: ["artifacts/generate-pool/pool/p00001/gen-0.png", "artifacts/generate-pool/pool/p00001/gen-1.png"]),
        ])
    }

    @Test func borderEstimatorFindsTheObjectOnACleanBackground() throws {
        let r = try Renderer.render(RenderRequest(subject: Subject(category: .mug, instance: 3), scene: .clean, size: 32))
        let est = ForegroundEstimator.border.coverage(r.image)
        // Agreement with the renderer's ground truth (coverage > 0.5) on most pixels.
        let agree = zip(est, r.mask).filter { ($0 > 0.5) == ($1 > 0.5) }.count
        #expect(Double(agree) / Double(est.count) > 0.9, "agreement \(agree) of \(est.count)")
        #expect(est.contains(1) && est.contains(0))
        #expect(ForegroundEstimator.none.coverage(r.image).allSatisfy { $0 == 1 })
    }

    @Test func defectSamplesCarryTheirMasks() throws {
        let s = try DefectBenchmark.samples(count: 3, seed: 5, size: 32)
        #expect(s.count == 3)
        for x in s {
            #expect(x.defectMask.contains(1) && x.generated.width == 32)
            #expect(x.referenceCoverage.contains { $0 > 0.5 } && x.generatedCoverage.contains { $0 > 0.5 })
            // The defect changed only pixels where the generated image shows the object (or its old place).
            #expect(x.generated != x.reference)
        }
        let again = try DefectBenchmark.samples(count: 3, seed: 5, size: 32)
        #expect(zip(s, again).allSatisfy { $0.generated == $1.generated && $0.defectMask == $1.defectMask })
    }
}
