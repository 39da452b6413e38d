import Foundation
import Report
import Testing

/// The fixture's `diffusion-dpo` in `all-references` raised by 0.01 * (subject index + 1) in DINO, and one model
/// renamed so each run has a model the other lacks.
private func shifted() -> (a: BenchResults, b: BenchResults, deltas: [Double]) {
    let a = ReportFixture.make()
    var b = a
    let i = b.models.firstIndex { $0.name == "diffusion-dpo" && $0.setting == "all-references" }!
    var deltas: [Double] = []
    for j in b.models[i].perSubject.indices {
        deltas.append(0.01 * Double(j + 1))
        b.models[i].perSubject[j].dino += deltas[j]
    }
    let k = b.models.firstIndex { $0.name == "hg-dpo" && $0.setting == "one-reference" }!
    b.models[k].name = "hg-dpo v2"
    return (a, b, deltas)
}

@Test func comparisonDifferenceIsBMinusAWithAPairedInterval() throws {
    let (a, b, deltas) = shifted()
    let t = RunComparison.table(a, b, labelA: "A", labelB: "B")
    #expect(t.columns.prefix(3) == ["Setting", "Model", "Subjects"])
    let dino = t.columns.firstIndex(of: "DINO")!, clipT = t.columns.firstIndex(of: "CLIP-T")!, avg = t.columns.firstIndex(of: "Avg")!
    func row(_ setting: String, _ model: String) -> [Cell]? {
        t.rows.first { $0[0] == .text(setting) && $0[1] == .text(model) }
    }
    let changed = try #require(row("all-references", "diffusion-dpo"))
    guard case .estimate(let e, _) = changed[dino], let mean = e.mean, let lo = e.low, let hi = e.high else {
        Issue.record("no DINO estimate: \(changed[dino])"); return
    }
    let expected = deltas.reduce(0, +) / Double(deltas.count)
    #expect(abs(mean - expected) < 1e-12)
    #expect(lo > 0 && lo < expected && hi > expected && hi <= deltas.max()! + 1e-12)   // paired: only the deltas vary
    #expect(changed[2] == .int(deltas.count))
    guard case .estimate(let t0, _) = changed[clipT], case .estimate(let av, _) = changed[avg] else { Issue.record("cells"); return }
    #expect(t0.mean == 0 && t0.low == 0 && t0.high == 0)
    #expect(abs(av.mean! - expected / 3) < 1e-12)
    // An unchanged model differs by exactly 0 on every metric; the upper bound is labelled.
    let same = try #require(row("all-references", "dm"))
    for c in same.dropFirst(3) { if case .estimate(let x, _) = c { #expect(x.mean == 0) } }
    #expect(row("all-references", "real-renders (upper bound)") != nil)
    // The renamed model is in one run only: no row, a note naming both sides.
    #expect(row("one-reference", "hg-dpo") == nil && row("one-reference", "hg-dpo v2") == nil)
    let note = t.notes.joined()
    #expect(note.contains("hg-dpo v2 (one-reference, only in B)") && note.contains("hg-dpo (one-reference, only in A)"))
}

@Test func comparisonWritesThePageAndTables() throws {
    let (a, b, _) = shifted()
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("compare-test-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: dir) }
    let files = try RunComparison.write(a, b, labelA: "run <a>", labelB: "run b", directory: dir)
    #expect(files.map(\.lastPathComponent).sorted() == ["compare.csv", "compare.json", "compare.md", "index.html"])
    let html = try String(contentsOf: dir.appendingPathComponent("index.html"), encoding: .utf8)
    #expect(html.contains("run b - run &lt;a&gt;") && !html.contains("run <a>"))
    var bad = b
    bad.models[0].perSubject[0].dino = .infinity
    #expect(throws: ReportError.self) { try RunComparison.write(a, bad, labelA: "a", labelB: "b", directory: dir) }
}
