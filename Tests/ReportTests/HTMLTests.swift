import Foundation
import Report
import Testing

private func tempDir() throws -> URL {
    let u = FileManager.default.temporaryDirectory.appendingPathComponent("report-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: u, withIntermediateDirectories: true)
    return u
}

private let pngBytes: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3, 250, 251]

@Test func htmlEscapesEveryMetaCharacter() {
    #expect(HTML.escape("<a href=\"x\">Tom & 'Jerry'</a>") == "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;")
    #expect(HTML.escape("plain") == "plain")
}

@Test func figuresAreEmbeddedAsDataURIs() throws {
    let dir = try tempDir()
    defer { try? FileManager.default.removeItem(at: dir) }
    try FileManager.default.createDirectory(at: dir.appendingPathComponent("artifacts"), withIntermediateDirectories: true)
    try Data(pngBytes).write(to: dir.appendingPathComponent("artifacts/grid.png"))
    let html = HTML.figure(Figure(section: "samples", title: "grid", path: "artifacts/grid.png", caption: "c"), runDirectory: dir)
    #expect(html.contains("src=\"data:image/png;base64,\(Data(pngBytes).base64EncodedString())\""))
    #expect(!html.contains("missing"))
}

@Test func aMissingOrNonPNGFigureIsAVisibleNote() throws {
    let dir = try tempDir()
    defer { try? FileManager.default.removeItem(at: dir) }
    let missing = HTML.figure(Figure(section: "samples", title: "t", path: "artifacts/none.png", caption: ""), runDirectory: dir)
    #expect(missing.contains("class=\"missing\"") && missing.contains("artifacts/none.png"))
    #expect(!missing.contains("data:image"))
    try Data("not a png".utf8).write(to: dir.appendingPathComponent("fake.png"))
    let fake = HTML.figure(Figure(section: "samples", title: "t", path: "fake.png", caption: ""), runDirectory: dir)
    #expect(fake.contains("class=\"missing\"") && fake.contains("not a PNG"))
}

@Test func writerWritesIndexAndEveryTableAtomically() throws {
    let run = try tempDir()
    defer { try? FileManager.default.removeItem(at: run) }
    var r = ReportFixture.make()
    r.run = "<script>alert('x')</script>"
    r.models[0].name = "orig <b>inal</b> & co"
    r.figures = [Figure(section: "samples", title: "ok", path: "g.png", caption: ""),
                 Figure(section: "samples", title: "gone", path: "missing/g.png", caption: "")]
    try Data(pngBytes).write(to: run.appendingPathComponent("g.png"))
    let report = run.appendingPathComponent("report")
    let files = try ReportWriter.write(r, runDirectory: run, reportDirectory: report)
    let names = Set(files.map { $0.path.replacingOccurrences(of: report.path + "/", with: "") })
    for id in ["table4-dreambench", "table1-patch-matching", "win-rates", "colour-shift", "frontier", "auroc", "performance", "stage-times", "headline"] {
        for ext in ["csv", "json", "md"] { #expect(names.contains("tables/\(id).\(ext)"), "tables/\(id).\(ext)") }
    }
    #expect(names.contains("index.html") && names.contains("results.json"))
    #expect(files.allSatisfy { FileManager.default.fileExists(atPath: $0.path) })
    let leftovers = try FileManager.default.contentsOfDirectory(atPath: report.path).filter { $0.hasPrefix(".") }
    #expect(leftovers.isEmpty)
    let html = try String(contentsOf: report.appendingPathComponent("index.html"), encoding: .utf8)
    #expect(!html.contains("<script>alert") && html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"))
    // The only scripts are the report's own (the drill-down sort and the side-by-side chooser).
    #expect(html.components(separatedBy: "<script>").dropFirst().allSatisfy { $0.hasPrefix("function pd") })
    #expect(!html.contains("<b>inal</b>") && html.contains("orig &lt;b&gt;inal&lt;/b&gt; &amp; co"))
    #expect(html.contains("data:image/png;base64,") && html.contains("missing/g.png"))
    #expect(html.contains("<svg") && html.contains("MET"))
    #expect(!html.contains("src=\"http") && !html.contains("<link"))   // self-contained
    let back = try JSONDecoder().decode(BenchResults.self, from: Data(contentsOf: report.appendingPathComponent("results.json")))
    #expect(back == r)
}

@Test func reportIsDeterministic() throws {
    let run = try tempDir()
    defer { try? FileManager.default.removeItem(at: run) }
    let r = ReportFixture.make()
    try ReportWriter.write(r, runDirectory: run, reportDirectory: run.appendingPathComponent("a"))
    try ReportWriter.write(r, runDirectory: run, reportDirectory: run.appendingPathComponent("b"))
    for f in ["index.html", "tables/table4-dreambench.csv", "tables/headline.json"] {
        #expect(try Data(contentsOf: run.appendingPathComponent("a/\(f)")) == Data(contentsOf: run.appendingPathComponent("b/\(f)")), "\(f)")
    }
}

@Test func badValuesAreTypedErrorsNamingTheField() throws {
    var r = ReportFixture.make()
    r.models[3].perSubject[1].clipT = .nan
    #expect(throws: ReportError.self) { try ReportWriter.validate(r) }
    do { try ReportWriter.validate(r); Issue.record("no error") } catch let e as ReportError {
        #expect(e.description.contains("models[3] (diffusion-dpo).perSubject[1] (teapot-0009).clipT"))
    }
    var share = ReportFixture.make()
    share.models[0].perSubject[2].detail = 1.5
    #expect(throws: ReportError.self) { try ReportWriter.validate(share) }
    var w = ReportFixture.make()
    w.winRates[0].ties = -1
    #expect(throws: ReportError.invalidValue(field: "winRates[0].ties", value: "-1",
                                             hint: "counts cannot be negative; the results file is corrupt, rerun the bench stage")) {
        try ReportWriter.validate(w)
    }
}

@Test func anUnwritableReportDirectoryIsATypedError() throws {
    let run = try tempDir()
    defer { try? FileManager.default.removeItem(at: run) }
    let blocker = run.appendingPathComponent("report")
    try Data("a file, not a directory".utf8).write(to: blocker)
    #expect(throws: ReportError.self) { try ReportWriter.write(ReportFixture.make(), runDirectory: run, reportDirectory: blocker) }
}

@Test func barsWithNegativeValuesHangBelowZero() {
    let svg = SVGPlot.groupedBars(groups: ["CLIP-T"], series: ["a", "b"],
                                  values: [[SVGPlot.Bar(value: -0.2, low: -0.25, high: -0.15), SVGPlot.Bar(value: 0.4, low: nil, high: nil)]],
                                  yLabel: "cosine")
    let heights = svg.components(separatedBy: "height=\"").dropFirst().compactMap { Double($0.prefix { $0 != "\"" }) }
    #expect(heights.allSatisfy { $0 >= 0 })
    // Two bars whose heights are in the ratio of their values (0.2 : 0.4), plus the frame.
    let bars = svg.components(separatedBy: "<rect").filter { $0.contains("<title>") }
    #expect(bars.count == 2)
    let h = bars.compactMap { b in Double(b.components(separatedBy: "height=\"")[1].prefix { $0 != "\"" }) }
    #expect(h.count == 2 && abs(h[1] / h[0] - 2) < 0.05)
}
