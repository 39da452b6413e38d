import Foundation
import Report
import Testing

@Test func heatmapSheetsAreEmbeddedPerViT() throws {
    let run = FileManager.default.temporaryDirectory.appendingPathComponent("heatmaps-test-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: run) }
    let paths = ["artifacts/patch-quality/heatmaps/original/p00000-gen-0.png", "artifacts/patch-quality/heatmaps/finetuned/p00001-gen-2.png",
                 "artifacts/patch-quality/heatmaps/finetuned/p00000-gen-0.png"]
    for (i, p) in paths.enumerated() {
        let u = run.appendingPathComponent(p)
        try FileManager.default.createDirectory(at: u.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, UInt8(i)]).write(to: u)
    }
    let html = PatchHeatmaps.html(paths, runDirectory: run)
    // Finetuned first (sorted paths), each sheet embedded once under its ViT, captioned by its pair.
    let sections = html.components(separatedBy: "<h3>").dropFirst()
    #expect(sections.map { String($0.prefix { $0 != "<" }) } == ["finetuned ViT", "original ViT"])
    #expect(sections.map { $0.components(separatedBy: "data:image/png;base64,").count - 1 } == [2, 1])
    #expect(sections.first!.contains("<b>p00000-gen-0</b>") && sections.first!.contains("<b>p00001-gen-2</b>"))
    // A sheet the results' figures already show is left out; none at all is a note.
    let skipped = PatchHeatmaps.html(paths, runDirectory: run, skip: [paths[0]])
    #expect(!skipped.contains("original ViT"))
    #expect(PatchHeatmaps.html([], runDirectory: run).contains("No patch-quality heatmaps"))
    // Through the writer: the heatmaps section holds them.
    let report = run.appendingPathComponent("report")
    try ReportWriter.write(ReportFixture.make(), runDirectory: run, reportDirectory: report, records: RunRecords(heatmaps: paths))
    let page = try String(contentsOf: report.appendingPathComponent("index.html"), encoding: .utf8)
    let section = try #require(page.components(separatedBy: "<section id=\"heatmaps-sec\">").dropFirst().first)
    #expect(section.components(separatedBy: "</section>")[0].components(separatedBy: "<figure>").count - 1 == 3)
}
