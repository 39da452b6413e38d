import Foundation
import Report
import Testing

@Test func everyTableLabelsTheRealRendersRowAsTheUpperBound() throws {
    var r = ReportFixture.make()
    r.winRates.append(WinRate(model: "real-renders", baseline: "original", scorer: "dino", wins: 30, ties: 2, losses: 8))
    r.colourShift.append(ColourShift(model: "real-renders", baseline: "original", huePct: 1, saturationPct: 2, valuePct: 3, images: 80))
    let c = ReportContent(r)
    for id in ["table4-dreambench", "win-rates", "colour-shift"] {
        let t = try #require(c.table(id))
        let col = t.columns.firstIndex { $0 == "Method" || $0 == "Model" }!
        let names = t.rows.map { $0[col].display }
        #expect(names.contains("real-renders (upper bound)"), "\(id)")
        #expect(!names.contains("real-renders"), "\(id)")
        #expect(names.filter { $0.contains("(upper bound)") }.allSatisfy { $0.hasPrefix("real-renders") }, "\(id)")
    }
    // The summaries keep the bench's name (what comparisons and the headline match on).
    #expect(c.summaries.contains { $0.name == "real-renders" })
    #expect(ModelSummaries.label("dm", loss: "dm") == "dm")
}
