import Foundation
import Testing
@testable import Report

/// The reproduction's tables and document (issue 16 item 2) on small hand-made results whose numbers are
/// worked out by hand in the comments.
@Suite struct ReproductionTests {
    /// Subjects a, b, c; the original scores DINO 0.5 on each, patchdpo 0.6 / 0.7 / 0.5 on a, b, d (d is its own).
    static func models() -> [ModelResult] {
        func s(_ id: String, _ dino: Double, detail: Double) -> SubjectScores {
            SubjectScores(subject: id, dino: dino, clipI: dino + 0.1, clipT: 0.3, images: 2, identity: 0.5, detail: detail, scene: 1)
        }
        return [
            ModelResult(name: "original", loss: nil, vit: nil, trainSeed: nil, setting: "all-references",
                        perSubject: [s("a", 0.5, detail: 0.25), s("b", 0.5, detail: 0.25), s("c", 0.5, detail: 0.25)]),
            ModelResult(name: "patchdpo (finetuned ViT)", loss: "patchdpo", vit: "finetuned", trainSeed: 1, setting: "all-references",
                        perSubject: [s("a", 0.6, detail: 0.5), s("b", 0.7, detail: 0.75), s("d", 0.5, detail: 1)]),
            ModelResult(name: "diffusion-dpo", loss: "diffusion-dpo", vit: nil, trainSeed: 1, setting: "all-references",
                        perSubject: [s("a", 0.55, detail: 0.25), s("b", 0.55, detail: 0.25), s("c", 0.55, detail: 0.25)]),
        ]
    }

    @Test func pairedDifferenceIsOverSharedSubjectsOnly() throws {
        let sums = ModelSummaries.summarise(Self.models(), seed: 1)
        let patch = try #require(sums.first { $0.loss == "patchdpo" }), base = try #require(sums.first { $0.loss == nil })
        // Shared: a, b. DINO differences 0.1 and 0.2 -> mean 0.15; Detail 0.25 and 0.5 -> 0.375.
        let dino = try #require(ReproductionTables.pairedDifference(patch, base, value: { $0.dino }, seed: 3))
        #expect(abs(dino.mean! - 0.15) < 1e-12 && dino.subjects == 2 && dino.images == 4)
        #expect(dino.low! >= 0.1 - 1e-12 && dino.high! <= 0.2 + 1e-12)
        let detail = try #require(ReproductionTables.pairedDifference(patch, base, value: { $0.detail }, seed: 3))
        #expect(abs(detail.mean! - 0.375) < 1e-12)
        #expect(ReproductionTables.pairedDifference(patch, base, value: { _ in nil }, seed: 3) == nil)
    }

    @Test func pairedDifferencesTableHasOneRowPerModelAndBase() throws {
        let t = ReproductionTables.pairedDifferences(ModelSummaries.summarise(Self.models(), seed: 1), seed: 1)
        #expect(t.columns == ["Setting", "Model", "Against", "Identity", "Detail", "DINO", "CLIP-I", "CLIP-T"])
        #expect(t.rows.map { $0[2].display } == ["original", "diffusion-dpo"])      // no dm in these results
        #expect(t.rows[0][5].display.hasPrefix("0.150 ["), "\(t.rows[0][5].display)")
        #expect(t.rows[1][5].display.hasPrefix("0.100 ["), "\(t.rows[1][5].display)")   // (0.05 + 0.15) / 2
    }

    /// The bench's `jedi` row (issue 17) is compared with the original adapter only (not with dm or diffusion-dpo).
    @Test func jediIsComparedWithTheOriginalOnly() throws {
        let jedi = ModelResult(name: "jedi", loss: "jedi", vit: nil, trainSeed: nil, setting: "all-references",
                               perSubject: [SubjectScores(subject: "a", dino: 0.3, clipI: 0.4, clipT: 0.3, images: 2, identity: 0, detail: 0, scene: 1),
                                            SubjectScores(subject: "c", dino: 0.4, clipI: 0.5, clipT: 0.3, images: 2, identity: 0.5, detail: 0, scene: 1)])
        let t = ReproductionTables.pairedDifferences(ModelSummaries.summarise(Self.models() + [jedi], seed: 1), seed: 1)
        let rows = t.rows.filter { $0[1].display == "jedi" }
        #expect(rows.count == 1 && rows[0][2].display == "original", "\(t.rows.map { $0.map(\.display) })")
        // Shared with the original: a, c. DINO (0.3 - 0.5 + 0.4 - 0.5) / 2 = -0.15; identity (0 - 0.5 + 0.5 - 0.5) / 2 = -0.25.
        #expect(rows[0][5].display.hasPrefix("-0.150 [") && rows[0][3].display.hasPrefix("-0.250 ["), "\(rows[0].map(\.display))")
        #expect(t.rows.count == 3, "the patchdpo rows are unchanged")
    }

    /// Models preference-trained from JeDi (`<loss>-jedi`) are compared with the row `jedi` alone.
    @Test func jediTrainedModelsAreComparedWithJeDi() throws {
        let scores = { (d: Double) in [SubjectScores(subject: "a", dino: d, clipI: 0.4, clipT: 0.3, images: 2, identity: 0, detail: 0, scene: 1)] }
        let jedi = ModelResult(name: "jedi", loss: "jedi", vit: nil, trainSeed: nil, setting: "all-references", perSubject: scores(0.3))
        let trained = ModelResult(name: "patchdpo-jedi-finetuned-s1", loss: "patchdpo-jedi", vit: "finetuned", trainSeed: 1,
                                  setting: "all-references", perSubject: scores(0.35))
        let t = ReproductionTables.pairedDifferences(ModelSummaries.summarise(Self.models() + [jedi, trained], seed: 1), seed: 1)
        let rows = t.rows.filter { $0[1].display == "patchdpo-jedi-finetuned-s1" }
        #expect(rows.count == 1 && rows[0][2].display == "jedi", "\(t.rows.map { $0.map(\.display) })")
        #expect(rows[0][5].display.hasPrefix("0.050 ["), "\(rows[0].map(\.display))")
        #expect(t.rows.count == 4, "the patchdpo rows (2), jedi against the original, patchdpo-jedi against jedi")
    }

    @Test func table4StandsOursBesideThePaper() throws {
        let t = ReproductionTables.table4(ModelSummaries.summarise(Self.models(), seed: 1), setting: "all-references")
        #expect(t.rows.count == 5 && t.rows.map { $0[0].display }.first == "original model")
        let byLabel = Dictionary(uniqueKeysWithValues: t.rows.map { ($0[0].display, $0) })
        #expect(byLabel["(2) L_dm on the constructed data"]?[1].display == "(not trained)")
        let five = try #require(byLabel["(5) PatchDPO, trained ViT's layer 7"])
        // Ours: patchdpo's DINO mean over its subjects (0.6 + 0.7 + 0.5) / 3 = 0.6 against the original's 0.5: +20.0 %.
        #expect(five[1].display == "patchdpo (finetuned ViT)" && five[5].display == "20.0", "\(five.map(\.display))")
        // The paper's: 0.727 / 0.692 - 1 = +5.06 %.
        #expect(five[6].display == "0.727" && five[9].display == "5.1")
    }

    @Test func table1UsesThePapersLayers() {
        let rows = [PatchMatchingRow(source: "world", block: 7, beforePct: 40, afterPct: 46.5, cells: 100),
                    PatchMatchingRow(source: "world", block: 3, beforePct: 10, afterPct: 20, cells: 100)]
        let t = ReproductionTables.table1(rows)
        #expect(t.rows.map { $0[0].display } == ["1", "4", "7", "10", "12"])
        #expect(t.rows[2].map(\.display) == ["7", "world", "40.0", "46.5", "6.5", "74.8", "83.7", "8.9"])
        #expect(t.rows[0][2].display == "n/a")       // block 1 not measured
    }

    @Test func theDocumentLeadsWithTheCompassAndIsWrittenWithTheReport() throws {
        var results = ReportFixture.make()
        // The bench writes the document before its own stage run finishes, so only the stages before it have times.
        results.stageTimes = [StageTime(stage: "dpo-train", seconds: 3000, status: "done"), StageTime(stage: "generate-pool", seconds: 4200, status: "done")]
        let doc = ReproductionDocument.markdown(ReportContent(results))
        #expect(doc.contains("Wall time of the stages before the bench: 2 h 0 min") && doc.contains("the bench's own time is not in it"))
        let compass = try #require(doc.components(separatedBy: "## Compass\n\n").last?.components(separatedBy: "\n\n").first)
        #expect(compass.split(separator: "\n").count == 5 && compass.contains("- original on Detail") && compass.contains("- diffusion-dpo on DINO"))
        for title in ["paired differences", "Table 4 beside the paper (all-references)", "Table 1 beside the paper", "Stage wall times"] {
            #expect(doc.contains(title), "\(title)")
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("repro-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let written = try ReportWriter.write(results, runDirectory: dir, reportDirectory: dir.appendingPathComponent("report"))
        #expect(written.contains { $0.lastPathComponent == "reproduction.md" })
        #expect(written.contains { $0.lastPathComponent == "paired-differences.md" })
    }
}
