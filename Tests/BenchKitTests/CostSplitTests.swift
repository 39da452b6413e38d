import Testing
@testable import BenchKit
import Report

/// The bench's time split (issue 22 item 4): per-item metrics summed per row, bookkeeping the remainder.
@Suite struct CostSplitTests {
    @Test func itemsSumPerRowAndARerunCountsOnce() throws {
        var m: [CostSplit.Metric] = []
        func item(_ row: String, _ subject: Int, _ s: Double, _ j: Double, _ total: Double, at t: Double) throws {
            try CostSplit.record(row: row, subject: subject, sampling: s, judging: j, item: total) { m.append(($0, $1, $2, t)) }
        }
        try item("original", 0, 10, 2, 13, at: 1)
        try item("original", 1, 12, 2, 15, at: 2)
        try item("original", 1, 30, 3, 40, at: 0.5)     // an older record of subject 1: the newest wins
        try item("refs", 0, 0, 0, 0.5, at: 1)
        try item("patchdpo-s1", 0, 8, 1, 8.5, at: 1)     // timer rounding: bookkeeping never negative
        m.append(("other/metric", 0, 99, 1))
        let rows = CostSplit.rows(m)
        #expect(rows.map(\.row) == ["original", "patchdpo-s1", "refs"])
        #expect(rows[0] == BenchCost(row: "original", items: 2, samplingSeconds: 22, judgingSeconds: 4, bookkeepingSeconds: 2))
        #expect(rows[1].bookkeepingSeconds == 0 && rows[1].totalSeconds == 9)
        #expect(rows[2] == BenchCost(row: "refs", items: 1, samplingSeconds: 0, judgingSeconds: 0, bookkeepingSeconds: 0.5))
    }

    @Test func theTableGivesPerItemMeansAndTheTotal() {
        let t = PaperTables.benchCost([BenchCost(row: "original", items: 2, samplingSeconds: 22, judgingSeconds: 4, bookkeepingSeconds: 2),
                                       BenchCost(row: "refs", items: 2, samplingSeconds: 0, judgingSeconds: 0, bookkeepingSeconds: 2)])
        #expect(t.rows.count == 3)
        #expect(t.rows[0].map(\.display) == ["original", "2", "11.00", "2.00", "1.00", "0.5"])
        #expect(t.rows[2].map(\.display) == ["all", "4", "5.50", "1.00", "1.00", "0.5"])
    }
}
