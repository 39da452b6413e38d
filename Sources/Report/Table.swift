import Foundation

/// One cell of a report table. `.estimate` is a mean with its 95% interval: one column in Markdown
/// and HTML ("0.512 [0.490, 0.533]"), three in CSV and JSON (value, CI low, CI high).
public enum Cell: Sendable, Equatable {
    case text(String)
    case int(Int)
    case number(Double?, digits: Int)
    case estimate(Estimate, digits: Int)

    /// The cell as display text; nil or non-finite numbers show as "n/a".
    public var display: String {
        switch self {
        case .text(let s): return s
        case .int(let i): return String(i)
        case .number(let v, let d): return Cell.format(v, d)
        case .estimate(let e, let d):
            guard let m = e.mean, m.isFinite else { return "n/a" }
            guard let lo = e.low, let hi = e.high else { return Cell.format(m, d) }
            return "\(Cell.format(m, d)) [\(Cell.format(lo, d)), \(Cell.format(hi, d))]"
        }
    }

    static func format(_ v: Double?, _ digits: Int) -> String {
        guard let v, v.isFinite else { return "n/a" }
        return String(format: "%.\(digits)f", v)
    }
}

/// A paper-shaped table: an id (the file stem under tables/), a title, column headers, rows and notes
/// (how the numbers were computed). Rows must have one cell per column.
public struct Table: Sendable, Equatable {
    public var id: String
    public var title: String
    public var columns: [String]
    public var rows: [[Cell]]
    public var notes: [String]
    public init(id: String, title: String, columns: [String], rows: [[Cell]], notes: [String] = []) {
        for (i, r) in rows.enumerated() {
            precondition(r.count == columns.count, "table \(id): row \(i) has \(r.count) cells for \(columns.count) columns")
        }
        self.id = id; self.title = title; self.columns = columns; self.rows = rows; self.notes = notes
    }

    /// Column headers of the flat (CSV/JSON) form: an estimate column expands to three.
    public var flatColumns: [String] {
        columns.enumerated().flatMap { i, c -> [String] in
            isEstimateColumn(i) ? [c, "\(c) CI low", "\(c) CI high"] : [c]
        }
    }

    func isEstimateColumn(_ i: Int) -> Bool {
        rows.contains { if case .estimate = $0[i] { return true } else { return false } }
    }

    /// Flat values (nil = missing) of a row, aligned with `flatColumns`.
    func flatValues(_ row: [Cell]) -> [FlatValue] {
        func num(_ v: Double?) -> FlatValue { v.flatMap { $0.isFinite ? FlatValue.number($0) : nil } ?? .missing }
        return row.enumerated().flatMap { i, cell -> [FlatValue] in
            let values: [FlatValue]
            switch cell {
            case .text(let s): values = [.text(s)]
            case .int(let v): values = [.int(v)]
            case .number(let v, _): values = [num(v)]
            case .estimate(let e, _): return [num(e.mean), num(e.low), num(e.high)]
            }
            return isEstimateColumn(i) ? values + [.missing, .missing] : values
        }
    }

    enum FlatValue { case text(String), int(Int), number(Double), missing }

    /// RFC 4180 CSV: header line, one line per row, fields quoted when they hold a comma, quote or newline.
    public var csv: String {
        func field(_ s: String) -> String {
            s.contains(where: { ",\"\n\r".contains($0) }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
        }
        var lines = [flatColumns.map(field).joined(separator: ",")]
        for r in rows {
            lines.append(flatValues(r).map { v -> String in
                switch v {
                case .text(let s): return field(s)
                case .int(let i): return String(i)
                case .number(let d): return String(d)
                case .missing: return ""
                }
            }.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// GitHub Markdown: a heading, the table (pipes escaped) and the notes.
    public var markdown: String {
        func esc(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ") }
        var out = "## \(esc(title))\n\n| " + columns.map(esc).joined(separator: " | ") + " |\n"
        out += "|" + columns.map { _ in "---" }.joined(separator: "|") + "|\n"
        for r in rows { out += "| " + r.map { esc($0.display) }.joined(separator: " | ") + " |\n" }
        if rows.isEmpty { out += "\n_No data in this run._\n" }
        for n in notes { out += "\n\(n)\n" }
        return out
    }

    /// JSON: {"id", "title", "columns": flat headers, "rows": [{header: value}], "notes"}; missing = null.
    public func json() throws -> Data {
        let flat = flatColumns
        let objects: [[String: Any]] = rows.map { r in
            var o: [String: Any] = [:]
            for (k, v) in zip(flat, flatValues(r)) {
                switch v {
                case .text(let s): o[k] = s
                case .int(let i): o[k] = i
                case .number(let d): o[k] = d
                case .missing: o[k] = NSNull()
                }
            }
            return o
        }
        let doc: [String: Any] = ["id": id, "title": title, "columns": flat, "rows": objects, "notes": notes]
        return try JSONSerialization.data(withJSONObject: doc, options: [.prettyPrinted, .sortedKeys])
    }
}
