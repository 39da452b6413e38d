import Foundation

/// Two bench runs compared (`render-report --compare A B`): for every model summary both runs have (same
/// setting and name, seed-mean rows included), each metric's difference B - A as the mean over the subjects
/// both runs scored of (B's score - A's score), with its paired percentile-bootstrap 95% interval (subjects
/// resampled jointly, `ReproductionTables.pairedDifference`). Models only one run has are listed in a note.
public enum RunComparison {
    /// The compared metrics, with how to read each from a subject's scores.
    static let metrics: [(name: String, value: @Sendable (SubjectScores) -> Double?)] = [
        ("Identity", { $0.identity }), ("Detail", { $0.detail }), ("Scene", { $0.scene }), ("DINO", { $0.dino }),
        ("CLIP-I", { $0.clipI }), ("CLIP-T", { $0.clipT }),
        ("Avg", { BenchStatistics.avg(dino: $0.dino, clipI: $0.clipI, clipT: $0.clipT) }),
    ]

    /// The comparison table (id `compare`): Setting, Model, Subjects (shared), then B - A per metric.
    /// `labelA` and `labelB` name the runs in the title; `seed` fixes every bootstrap.
    public static func table(_ a: BenchResults, _ b: BenchResults, labelA: String, labelB: String,
                             seed: UInt64 = 20_240_917) -> Table {
        let sa = ModelSummaries.summarise(a.models, seed: seed), sb = ModelSummaries.summarise(b.models, seed: seed)
        var rows: [[Cell]] = []
        var onlyOne: [String] = []
        for m in sb {
            guard let base = sa.first(where: { $0.setting == m.setting && $0.name == m.name }) else {
                onlyOne.append("\(m.name) (\(m.setting), only in \(labelB))"); continue
            }
            let shared = Set(base.subjects.map(\.subject)).intersection(m.subjects.map(\.subject)).count
            let cells: [Cell] = metrics.map { metric in
                ReproductionTables.pairedDifference(m, base, value: metric.value,
                                                    seed: BenchStatistics.seed(seed, "compare|\(m.setting)|\(m.name)|\(metric.name)"))
                    .map { .estimate($0, digits: 3) } ?? .text("")
            }
            rows.append([.text(m.setting), .text(ModelSummaries.label(m.name, loss: m.loss)), .int(shared)] + cells)
        }
        for m in sa where !sb.contains(where: { $0.setting == m.setting && $0.name == m.name }) {
            onlyOne.append("\(m.name) (\(m.setting), only in \(labelA))")
        }
        var notes = ["Each cell: mean over the subjects both runs scored of (\(labelB) - \(labelA)), with its paired percentile "
                     + "bootstrap 95% interval (subjects resampled jointly). An interval that excludes 0 is a difference the bench can see; "
                     + "the runs must share subjects (same bench seed and split) for the pairing to mean anything."]
        if !onlyOne.isEmpty { notes.append("Not compared (in one run only): " + onlyOne.joined(separator: "; ") + ".") }
        return Table(id: "compare", title: "\(labelB) - \(labelA): paired differences per model and metric",
                     columns: ["Setting", "Model", "Subjects"] + metrics.map(\.name), rows: rows, notes: notes)
    }

    /// The comparison page: a header naming both runs and the table.
    public static func html(_ t: Table, labelA: String, labelB: String) -> String {
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            + "<title>\(HTML.escape("Bench comparison: \(labelB) - \(labelA)"))</title><style>\(HTML.style)</style></head><body>"
            + "<h1>\(HTML.escape("Bench comparison: \(labelB) - \(labelA)"))</h1>"
            + "<table class=\"meta\"><tr><th>A</th><td>\(HTML.escape(labelA))</td></tr><tr><th>B</th><td>\(HTML.escape(labelB))</td></tr></table>"
            + HTML.table(t) + "<p class=\"note\">Written by the Report library (docs/REPORT.md, Comparing two runs).</p></body></html>\n"
    }

    /// Writes `index.html` and `tables/compare.{csv,json,md}` into `directory` (atomically, as `ReportWriter`);
    /// both results are validated first. Returns the files written, sorted.
    @discardableResult
    public static func write(_ a: BenchResults, _ b: BenchResults, labelA: String, labelB: String, directory: URL) throws -> [URL] {
        try ReportWriter.validate(a); try ReportWriter.validate(b)
        let seed = a.config["seed"].flatMap { UInt64($0.trimmingCharacters(in: .whitespaces)) } ?? 20_240_917
        let t = table(a, b, labelA: labelA, labelB: labelB, seed: seed)
        let tables = directory.appendingPathComponent("tables")
        do { try FileManager.default.createDirectory(at: tables, withIntermediateDirectories: true) } catch {
            throw ReportError.cannotWrite(path: tables.path, reason: error.localizedDescription)
        }
        let base = tables.appendingPathComponent(t.id)
        let json: Data
        do { json = try t.json() } catch { throw ReportError.cannotWrite(path: base.path + ".json", reason: "\(error)") }
        let files: [(Data, URL)] = [(Data(t.csv.utf8), base.appendingPathExtension("csv")), (Data(t.markdown.utf8), base.appendingPathExtension("md")),
                                    (json, base.appendingPathExtension("json")),
                                    (Data(html(t, labelA: labelA, labelB: labelB).utf8), directory.appendingPathComponent("index.html"))]
        for (d, u) in files { try ReportWriter.atomicWrite(d, to: u) }
        return files.map(\.1).sorted { $0.path < $1.path }
    }
}
