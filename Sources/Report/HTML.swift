import Foundation

/// HTML text helpers: every string from the results goes through `escape` before it enters the page.
public enum HTML {
    /// Escapes & < > " ' so text is safe in element content and in quoted attribute values.
    public static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.count)
        for c in s {
            if let entity = entities[c] { out += entity } else { out.append(c) }
        }
        return out
    }

    static let entities: [Character: String] = ["&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;"]

    /// A table as HTML (estimate cells show the interval in a smaller grey span).
    public static func table(_ t: Table) -> String {
        var s = "<div class=\"scroll\"><table id=\"\(escape(t.id))\"><caption>\(escape(t.title))</caption><thead><tr>"
        s += t.columns.map { "<th>\(escape($0))</th>" }.joined() + "</tr></thead><tbody>"
        for r in t.rows {
            s += "<tr>" + r.map { c -> String in
                switch c {
                case .text(let v): return "<td>\(escape(v))</td>"
                case .estimate(let e, let d):
                    guard let m = e.mean, m.isFinite else { return "<td class=\"num\">n/a</td>" }
                    let ci = (e.low != nil && e.high != nil) ? " <span class=\"ci\">[\(Cell.format(e.low, d)), \(Cell.format(e.high, d))]</span>" : ""
                    return "<td class=\"num\">\(Cell.format(m, d))\(ci)</td>"
                default: return "<td class=\"num\">\(escape(c.display))</td>"
                }
            }.joined() + "</tr>"
        }
        if t.rows.isEmpty { s += "<tr><td colspan=\"\(t.columns.count)\" class=\"note\">No data in this run.</td></tr>" }
        s += "</tbody></table></div>"
        return s + t.notes.map { "<p class=\"note\">\(escape($0))</p>" }.joined()
    }

    /// Figures embedded as PNG data URIs, read from `path` relative to the run directory. A missing
    /// or non-PNG file becomes a visible note naming the path (never an error: the rest of the report stands).
    public static func figure(_ fig: Figure, runDirectory: URL) -> String {
        let url = runDirectory.appendingPathComponent(fig.path)
        let head = "<figure><figcaption><b>\(escape(fig.title))</b>" + (fig.caption.isEmpty ? "" : " - \(escape(fig.caption))") + "</figcaption>"
        guard let data = try? Data(contentsOf: url) else {
            return head + "<p class=\"missing\">Missing figure: \(escape(fig.path)) (not found under \(escape(runDirectory.path)); "
                + "rerun the stage that writes it, then the bench stage).</p></figure>"
        }
        guard data.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) else {
            return head + "<p class=\"missing\">Figure \(escape(fig.path)) is not a PNG file (\(data.count) bytes); it is not embedded.</p></figure>"
        }
        return head + "<img alt=\"\(escape(fig.title))\" src=\"data:image/png;base64,\(data.base64EncodedString())\"></figure>"
    }

    static let style = """
    body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:24px auto;max-width:1200px;color:#222;padding:0 16px}
    h1{font-size:24px;margin-bottom:4px}h2{font-size:19px;border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:32px}
    table{border-collapse:collapse;margin:10px 0;font-size:13px}caption{text-align:left;font-weight:600;padding:4px 0;white-space:nowrap}
    th,td{border:1px solid #ddd;padding:3px 8px;text-align:left}th{background:#f2f2f2}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}td{white-space:nowrap}
    .ci{color:#777;font-size:11px}.note{color:#555;font-size:12px;margin:2px 0}
    .missing{background:#fff3cd;border:1px solid #e0c36b;padding:6px 10px;color:#6b5200}
    .met{color:#1b7a1b;font-weight:600}.notmet{color:#b3261e;font-weight:600}.nm{color:#777;font-weight:600}
    .headline{background:#f6f8fa;border:1px solid #d0d7de;border-radius:6px;padding:10px 16px}
    .big{font-size:18px}.meta td,.meta th{border:none;padding:1px 12px 1px 0}figure{margin:12px 0}
    figure img{max-width:100%;image-rendering:pixelated;border:1px solid #ddd}figcaption{font-size:13px;margin-bottom:4px}
    svg{max-width:100%;height:auto;font-family:inherit}nav a{margin-right:12px;font-size:13px;display:inline-block}
    .meta td{white-space:normal;overflow-wrap:anywhere}caption{white-space:normal}select{max-width:100%}.scroll{overflow-x:auto;max-width:100%}
    \(ImageSheet.style)
    \(SideBySide.style)
    \(SubjectDrillDown.style)
    """
}
