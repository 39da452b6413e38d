import Foundation
import Report
import Testing

private let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 7, 7, 7]

/// A run directory holding a (distinct) PNG-signed file for every path of `samples`, except `skip`.
private func runWithSamples(_ samples: SampleIndex, skip: Set<String> = []) throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("drill-test-\(UUID().uuidString)")
    let paths = Set(samples.entries.flatMap { $0.references + $0.images.map(\.file) }).subtracting(skip)
    for (i, p) in paths.sorted().enumerated() {
        let u = dir.appendingPathComponent(p)
        try FileManager.default.createDirectory(at: u.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(png + Array(String(i).utf8)).write(to: u)
    }
    return dir
}

/// The `<tr ...>...</tr>` rows of the drill-down table of `setting`.
private func drillRows(_ html: String, setting: String) -> [String] {
    guard let t = html.components(separatedBy: "id=\"drill-\(setting)\"").dropFirst().first,
          let body = t.components(separatedBy: "</table>").first else { return [] }
    return body.components(separatedBy: "<tr data-subject=").dropFirst().map { String($0) }
}

@Test func drillDownHasOneRowPerSubjectWithEveryModelsScores() throws {
    let r = ReportFixture.make()
    var sheet = ImageSheet(runDirectory: URL(fileURLWithPath: "/nonexistent"))
    let html = SubjectDrillDown.html(r, samples: ReportFixture.samples(), sheet: &sheet)
    for setting in ["all-references", "one-reference"] {
        let models = r.models.filter { $0.setting == setting }
        let rows = drillRows(html, setting: setting)
        #expect(rows.count == models[0].perSubject.count, "\(setting)")
        for (i, row) in rows.enumerated() {
            let subject = models[0].perSubject[i].subject
            #expect(row.hasPrefix("\"\(subject)\""))
            // One cell per model, each carrying that model's DINO of this subject for the sort.
            let cells = row.components(separatedBy: "<td data-dino=\"").dropFirst().map { String($0.prefix { $0 != "\"" }) }
            #expect(cells.compactMap(Double.init) == models.map { m in m.perSubject.first { $0.subject == subject }!.dino }, "\(subject)")
        }
    }
    #expect(html.contains("onclick=\"pdSort(this)\"") && html.contains("function pdSort("))
    #expect(html.contains(">real-renders (upper bound)</th>"))
}

@Test func sampleImagesAreEmbeddedOnceAndAMissingOneIsNamed() throws {
    let samples = ReportFixture.samples()
    let gone = samples.entries[3].images[1].file
    let run = try runWithSamples(samples, skip: [gone])
    defer { try? FileManager.default.removeItem(at: run) }
    let report = run.appendingPathComponent("report")
    try ReportWriter.write(ReportFixture.make(), runDirectory: run, reportDirectory: report, records: RunRecords(samples: samples))
    let html = try String(contentsOf: report.appendingPathComponent("index.html"), encoding: .utf8)
    let files = Set(samples.entries.flatMap { $0.references + $0.images.map(\.file) })
    // One CSS rule per file present, though the drill-down and the side-by-side rows both show the samples.
    let rules = html.components(separatedBy: "{background-image:url(data:image/png;base64,").count - 1
    #expect(rules == files.count - 1)
    #expect(html.contains("title=\"missing: \(gone)\""))
    #expect(!html.contains("src=\"http") && !html.contains("<link"))
}

@Test func sideBySideShowsTheReferenceAndOneImagePerModelUnderTheFullPrompt() throws {
    let r = ReportFixture.make()
    let samples = ReportFixture.samples()
    var sheet = ImageSheet(runDirectory: URL(fileURLWithPath: "/nonexistent"))
    let html = SideBySide.html(r, samples: samples, setting: "all-references", sheet: &sheet)
    let models = r.models.filter { $0.setting == "all-references" }
    let subjects = models[0].perSubject.map(\.subject)
    let blocks = html.components(separatedBy: "<div class=\"sbs\"").dropFirst()
    #expect(blocks.count == subjects.count * 2)                    // every (subject, prompt)
    #expect(blocks.dropFirst().allSatisfy { $0.contains(" hidden>") } && !blocks.first!.contains(" hidden>"))
    let first = String(blocks.first!)
    let prompt = samples.entries[0].prompts[0]
    #expect(prompt.count > 20 && first.contains("<b>\(prompt)</b>"))
    #expect(first.components(separatedBy: "<figure>").count - 1 == models.count + 1)   // reference + one per model
    #expect(first.contains("seed 0") && !first.contains("seeds differ"))
    for m in models { #expect(first.contains("samples/\(m.name)/\(subjects[0])/p00-k0.png")) }
    // A model that drew another seed is flagged.
    var odd = samples
    odd.entries[odd.entries.firstIndex { $0.model == models[2].name && $0.subject == subjects[0] }!].images[0].seed = 99
    let flagged = SideBySide.html(r, samples: odd, setting: "all-references", sheet: &sheet)
    #expect(flagged.components(separatedBy: "<div class=\"sbs\"")[1].contains("the models' seeds differ (2 seeds)"))
}

@Test func sampleIndexReadsBenchItemRecordsAndPicksTheSettingsItem() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("items-test-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: dir) }
    func put(_ path: String, _ json: String) throws {
        let u = dir.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: u.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(json.utf8).write(to: u)
    }
    // BenchKit's record shape, with fields the report does not read.
    let image = #"{"file":"artifacts/bench/samples/dm/mug-0009/p00-k0.png","prompt":0,"k":0,"seed":5,"dino":[0.5,0.7],"clipI":[0.1],"clipT":0.3,"hsv":[1,2,3],"attributes":{"decal":1}}"#
    try put("dm/mug-0009.json", #"{"key":"dm/mug-0009","model":"dm","subject":"mug-0009","references":["r0.png","r1.png"],"prompts":["a mug"],"images":[\#(image)]}"#)
    try put("dm+all-refs/mug-0009.json", #"{"key":"dm+all-refs/mug-0009","model":"dm","subject":"mug-0009","conditionedOn":2,"references":["r0.png","r1.png"],"prompts":["a mug"],"images":[]}"#)
    try put("frontier-w2/mug-0009.json", #"{"key":"frontier-w2/mug-0009","model":"dm","wRG":2,"subject":"mug-0009","references":[],"prompts":[],"images":[]}"#)
    try put("dm/broken.json", "not json")
    let index = SampleIndex.load(itemsDirectory: dir)
    #expect(index.entries.count == 2)                              // the frontier item and the broken file are left out
    let one = try #require(index.entry(model: "dm", subject: "mug-0009", setting: "one-reference"))
    #expect(one.conditionedOn == nil && one.images.count == 1 && one.images[0].seed == 5)
    #expect(abs(one.images[0].meanDINO! - 0.6) < 1e-12 && one.images[0].clipT == 0.3)
    #expect(index.entry(model: "dm", subject: "mug-0009", setting: "all-references")?.conditionedOn == 2)
    #expect(index.entry(model: "sft", subject: "mug-0009", setting: "all-references") == nil)
    #expect(SampleIndex.load(itemsDirectory: dir.appendingPathComponent("none")).isEmpty)
}
