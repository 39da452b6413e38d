import Foundation

/// Side-by-side samples: for one subject and prompt (chosen in a list; the first shown), the reference and
/// one image per model in a single row, every model's image of the same (prompt, k = 0) and so of the same
/// seed, under the full prompt. Each image is captioned with its model, its DINO (mean over the references)
/// and CLIP-T. The seeds are checked: a row whose models drew different seeds says so.
public enum SideBySide {
    static let size = 96

    /// One (subject, prompt) row's content: the prompt text, the reference path and each model's image.
    struct Row {
        var subject: String
        var prompt: Int
        var text: String
        var reference: String?
        var images: [(model: String, sample: SampleIndex.Sample?)]
    }

    /// The rows for `setting`: every subject of the first model with samples, every prompt of its item,
    /// one image (the lowest k) per model of that setting.
    static func rows(_ r: BenchResults, samples: SampleIndex, setting: String) -> [Row] {
        let models = r.models.filter { $0.setting == setting }
        var subjects: [String] = []
        for m in models { for x in m.perSubject where !subjects.contains(x.subject) { subjects.append(x.subject) } }
        var out: [Row] = []
        for subject in subjects {
            let items = models.map { samples.entry(model: $0.name, subject: subject, setting: setting) }
            guard let first = items.compactMap({ $0 }).first else { continue }
            for (j, text) in first.prompts.enumerated() {
                let images = zip(models, items).map { m, e in
                    (title(m), e?.images.filter { $0.prompt == j }.min { $0.k < $1.k })
                }
                out.append(Row(subject: subject, prompt: j, text: text, reference: first.references.first, images: images))
            }
        }
        return out
    }

    static func title(_ m: ModelResult) -> String { SubjectDrillDown.title(m) }

    /// The section body for `setting` (the headline's): a chooser and one row per (subject, prompt), all
    /// but the chosen one hidden.
    public static func html(_ r: BenchResults, samples: SampleIndex, setting: String, sheet: inout ImageSheet) -> String {
        let rows = rows(r, samples: samples, setting: setting)
        guard !rows.isEmpty else {
            return "<p class=\"note\">No sample records were found (artifacts/bench/items), so there are no side-by-side samples.</p>"
        }
        var s = "<p class=\"note\">\(HTML.escape(setting)): the reference, then one image per model for the same prompt and seed. "
            + "Subject and prompt: <select onchange=\"pdShow(this)\">"
            + rows.enumerated().map { i, row in
                "<option value=\"sbs-\(i)\">\(HTML.escape("\(row.subject) - \(row.text)"))</option>"
            }.joined() + "</select></p>"
        for (i, row) in rows.enumerated() {
            let seeds = Set(row.images.compactMap { $0.sample?.seed })
            s += "<div class=\"sbs\" id=\"sbs-\(i)\"\(i == 0 ? "" : " hidden")><p class=\"prompt\">\(HTML.escape(row.subject)), prompt \(row.prompt + 1): "
                + "<b>\(HTML.escape(row.text))</b>" + (seeds.count > 1 ? " <span class=\"missing\">the models' seeds differ (\(seeds.count) seeds)</span>" : "")
                + (seeds.count == 1 ? " <span class=\"ci\">seed \(seeds.first!)</span>" : "") + "</p><div class=\"sbsrow\">"
            let ref = row.reference.map { sheet.thumbnail($0, size: size, title: "reference: \($0)") } ?? ""
            s += "<figure>\(ref)<figcaption>reference</figcaption></figure>"
            for (model, sample) in row.images {
                guard let sample else {
                    s += "<figure><span class=\"th nofile\" style=\"width:\(size)px;height:\(size)px\">-</span><figcaption>\(HTML.escape(model))<br>no sample</figcaption></figure>"
                    continue
                }
                let scores = [sample.meanDINO.map { "DINO \(Cell.format($0, 3))" }, sample.clipT.map { "CLIP-T \(Cell.format($0, 3))" }]
                    .compactMap { $0 }.joined(separator: " ")
                s += "<figure>\(sheet.thumbnail(sample.file, size: size, title: "\(model): \(sample.file)"))"
                    + "<figcaption>\(HTML.escape(model))<br><span class=\"ci\">\(HTML.escape(scores))</span></figcaption></figure>"
            }
            s += "</div></div>"
        }
        return s + "<script>function pdShow(s){document.querySelectorAll('div.sbs').forEach(function(d){d.hidden=d.id!==s.value})}</script>"
    }

    static let style = """
    .sbsrow{display:flex;flex-wrap:wrap;gap:6px}.sbsrow figure{margin:0;width:\(size + 8)px;font-size:11px;overflow-wrap:anywhere}
    .prompt{font-size:14px;margin:6px 0}
    """
}
