import Foundation

/// The per-subject drill-down: per reference setting, one table row per subject, the subject's reference
/// beside one column per model (every result of that setting, seeds apart, in the bench's order) holding
/// that model's samples of the subject and its scores. A click on a header sorts the rows by that column
/// (by the metric chosen above the table for a model column, by name for the subject), in a few lines of
/// inline script; without scripts the table reads in the bench's subject order.
public enum SubjectDrillDown {
    /// The sortable metrics: (data attribute, label, value of a subject's scores).
    static let metrics: [(key: String, label: String, value: @Sendable (SubjectScores) -> Double?)] = [
        ("dino", "DINO", { $0.dino }), ("clipi", "CLIP-I", { $0.clipI }), ("clipt", "CLIP-T", { $0.clipT }),
        ("avg", "Avg", { BenchStatistics.avg(dino: $0.dino, clipI: $0.clipI, clipT: $0.clipT) }),
        ("identity", "Identity", { $0.identity }), ("detail", "Detail", { $0.detail }), ("scene", "Scene", { $0.scene }),
    ]
    static let thumb = 48

    /// The settings in input order, each with its models and the union of their subjects (first-seen order).
    static func settings(_ models: [ModelResult]) -> [(setting: String, models: [ModelResult], subjects: [String])] {
        var order: [String] = []
        for m in models where !order.contains(m.setting) { order.append(m.setting) }
        return order.map { s in
            let ms = models.filter { $0.setting == s }
            var subjects: [String] = []
            for m in ms { for x in m.perSubject where !subjects.contains(x.subject) { subjects.append(x.subject) } }
            return (s, ms, subjects)
        }
    }

    /// A model's column title: its name, "(upper bound)" for the real-renders row.
    static func title(_ m: ModelResult) -> String {
        ModelSummaries.label(m.name, loss: m.loss)
    }

    /// The section body: a metric chooser and one table per setting.
    public static func html(_ r: BenchResults, samples: SampleIndex, sheet: inout ImageSheet) -> String {
        let groups = settings(r.models)
        guard !groups.isEmpty else { return "<p class=\"note\">No per-subject results in this run.</p>" }
        var s = "<p class=\"note\">One row per subject: its reference (hover for the path), then per model its samples "
            + "(every prompt, k = 0 first) and its scores (means over the subject's images). Click a header to sort; "
            + "model columns sort by <select class=\"dd-metric\" onchange=\"pdMetric(this)\">"
            + metrics.map { "<option value=\"\($0.key)\">\(HTML.escape($0.label))</option>" }.joined() + "</select>."
            + (samples.isEmpty ? " No sample records were found (artifacts/bench/items), so only the scores are shown." : "") + "</p>"
        for g in groups {
            s += "<div class=\"scroll\"><table class=\"drill\" data-metric=\"dino\" id=\"drill-\(HTML.escape(g.setting))\">"
                + "<caption>\(HTML.escape("Per subject, \(g.setting) (\(g.subjects.count) subjects x \(g.models.count) models)"))</caption><thead><tr>"
                + "<th onclick=\"pdSort(this)\">Subject</th><th>Reference</th>"
                + g.models.map { "<th onclick=\"pdSort(this)\">\(HTML.escape(title($0)))</th>" }.joined() + "</tr></thead><tbody>"
            for subject in g.subjects {
                let first = g.models.lazy.compactMap { samples.entry(model: $0.name, subject: subject, setting: g.setting) }.first
                let ref = first?.references.first.map { sheet.thumbnail($0, size: thumb, title: "\(subject) reference: \($0)") } ?? ""
                s += "<tr data-subject=\"\(HTML.escape(subject))\"><td data-key=\"\(HTML.escape(subject))\">\(HTML.escape(subject))</td><td>\(ref)</td>"
                for m in g.models { s += cell(m, subject: subject, setting: g.setting, samples: samples, sheet: &sheet) }
                s += "</tr>"
            }
            s += "</tbody></table></div>"
        }
        return s + "<script>\(script)</script>"
    }

    /// One model's cell: data-<metric> attributes for sorting, the samples, then the scores.
    static func cell(_ m: ModelResult, subject: String, setting: String, samples: SampleIndex, sheet: inout ImageSheet) -> String {
        guard let sc = m.perSubject.first(where: { $0.subject == subject }) else { return "<td class=\"note\">not measured</td>" }
        let attrs = metrics.compactMap { k in k.value(sc).map { " data-\(k.key)=\"\($0)\"" } }.joined()
        var thumbs = ""
        if let e = samples.entry(model: m.name, subject: subject, setting: setting) {
            thumbs = e.images.sorted { ($0.prompt, $0.k) < ($1.prompt, $1.k) }.map { im in
                let prompt = im.prompt < e.prompts.count ? e.prompts[im.prompt] : "prompt \(im.prompt)"
                return sheet.thumbnail(im.file, size: thumb, title: "\(m.name), \(subject): \(prompt) (k = \(im.k))")
            }.joined() + "<br>"
        }
        func v(_ x: Double?, _ d: Int) -> String { x.map { Cell.format($0, d) } ?? "n/a" }
        return "<td\(attrs)>\(thumbs)<span class=\"ci\">DINO \(v(sc.dino, 3)) CLIP-I \(v(sc.clipI, 3)) CLIP-T \(v(sc.clipT, 3))<br>"
            + "id \(v(sc.identity, 2)) det \(v(sc.detail, 2)) scene \(v(sc.scene, 2)), \(sc.images) img</span></td>"
    }

    /// Sorts a table's body rows by the clicked column: `data-key` text (subject), else the table's chosen
    /// `data-<metric>` number; a cell without the value sorts last. A second click reverses.
    static let script = """
    function pdKey(td,m){if(td.dataset.key!==undefined)return td.dataset.key;var v=td.dataset[m];return v===undefined?null:parseFloat(v)}
    function pdSort(th){var t=th.closest('table'),b=t.tBodies[0],c=th.cellIndex,m=t.dataset.metric,up=th.getAttribute('aria-sort')!=='ascending';
    for(var h of th.parentNode.cells)h.removeAttribute('aria-sort');th.setAttribute('aria-sort',up?'ascending':'descending');
    Array.from(b.rows).sort(function(x,y){var a=pdKey(x.cells[c],m),z=pdKey(y.cells[c],m);if(a===z)return 0;if(a===null)return 1;if(z===null)return -1;
    return (a<z?-1:1)*(up?1:-1)}).forEach(function(r){b.appendChild(r)})}
    function pdMetric(s){document.querySelectorAll('table.drill').forEach(function(t){t.dataset.metric=s.value})}
    """

    /// The table's CSS: cells top-aligned, sortable headers with their direction, the subject column kept in view.
    static let style = """
    table.drill td{vertical-align:top}table.drill th[onclick]{cursor:pointer}
    table.drill th[aria-sort=ascending]::after{content:" \\25B2"}table.drill th[aria-sort=descending]::after{content:" \\25BC"}
    table.drill td:first-child,table.drill th:first-child{position:sticky;left:0;background:#fff;z-index:1}table.drill th:first-child{background:#f2f2f2}
    """
}
