import Foundation
internal import TOMLKit

/// One `[table]` of a parsed document: its entries with the line each was written on.
public struct TOMLTable: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public var value: TOMLValue
        public var line: Int
    }
    /// Line of the `[header]` (0 for the root table).
    public var line: Int
    public var entries: [String: Entry] = [:]
}

/// A parsed config file: tables keyed by their dotted name (`"run"`, `"fake-stage.produce"`;
/// keys before the first header live in table `""`).
///
/// The text is TOML 1.0, parsed by TOMLKit (toml++): multi-line arrays, `"""` and `'''` strings, hex, octal and
/// binary integers, `_` separators are all read as TOML reads them. A config key holds a string, an integer, a
/// float, a bool or an array of those, so a table-valued key (a dotted key `a.b = 1`, an inline table `{...}`), an
/// array of tables (`[[t]]`) and dates or times are refused naming their line (`ConfigError.unsupportedValue`).
/// Every table named by a `[header]` is a table here, empty or not; tables that only hold others
/// (`fake-stage` of `[fake-stage.produce]`) are not.
public struct TOMLDocument: Sendable, Equatable {
    /// The file name used in error messages.
    public let file: String
    public var tables: [String: TOMLTable]

    /// Reads and parses a file. Errors: `ConfigError.unreadable`, `.syntax`, `.unsupportedValue`.
    public static func load(_ url: URL) throws -> TOMLDocument {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw ConfigError.unreadable(file: url.path, message: (error as NSError).localizedDescription)
        }
        return try parse(text, file: url.path)
    }

    /// Parses TOML text; `file` only names the source in errors. A syntax error (toml++'s message, duplicate keys
    /// and tables included) is `ConfigError.syntax` with toml++'s line and column.
    public static func parse(_ text: String, file: String) throws -> TOMLDocument {
        let (root, lines) = try parseTable(text, file: file)
        var doc = TOMLDocument(file: file, tables: ["": TOMLTable(line: 0)])
        try doc.add(root, path: [], lines: lines)
        return doc
    }

    /// Parses a single value as written on the right of `=` (used by `--set key=value`), on one line.
    public static func parseValue(_ text: String, source: String) throws -> TOMLValue {
        if text.contains(where: \.isNewline) {
            throw ConfigError.syntax(file: source, line: 1, message: "a value must fit on one line")
        }
        let (table, _) = try parseTable("v = " + text, file: source)
        guard let node = table["v"]?.tomlValue else { throw ConfigError.syntax(file: source, line: 1, message: "no value") }
        return try value(node, file: source, line: 1, section: source, key: "value")
    }

    /// TOMLKit's parse, its error as `ConfigError.syntax`, and the lines of `text`'s headers and keys. Refused first,
    /// all invalid TOML: a NUL (toml++ reads the text as a C string, so it would silently end the document there) and
    /// what toml++ 3.4.0 would abort on instead of reporting (`TOMLLines.unsafe`).
    private static func parseTable(_ text: String, file: String) throws -> (TOMLKit.TOMLTable, TOMLLines) {
        if let nul = text.firstIndex(of: "\0") {
            let line = text[..<nul].filter { $0 == "\n" }.count + 1
            throw ConfigError.syntax(file: file, line: line, message: "NUL character (not allowed in TOML)")
        }
        let lines = TOMLLines(text)
        if let unsafe = lines.unsafe { throw ConfigError.syntax(file: file, line: unsafe.line, message: unsafe.message) }
        do {
            return (try TOMLKit.TOMLTable(string: text), lines)
        } catch let e as TOMLParseError {
            throw ConfigError.syntax(file: file, line: e.source.begin.line,
                                     message: "\(e.description) (column \(e.source.begin.column))")
        }
    }

    /// Adds `table`'s values to the table named by `path` and recurses into the tables below it that a header
    /// names, or that hold such a table.
    private mutating func add(_ table: TOMLKit.TOMLTable, path: [String], lines: TOMLLines) throws {
        let name = path.joined(separator: ".")
        for (key, node) in zip(table.keys, table.values) {
            let childPath = path + [key]
            let childName = childPath.joined(separator: ".")
            if node.type == .table, let sub = node.table, !sub.inline,
               lines.headers.keys.contains(where: { $0 == childName || $0.hasPrefix(childName + ".") }) {
                if let header = lines.headers[childName] { tables[childName] = TOMLTable(line: header) }
                try add(sub, path: childPath, lines: lines)
                continue
            }
            let line = Self.line(of: childPath, lines)
            guard tables[name] != nil else {
                // A value in a table no header names: one made by a dotted key (`a.b = 1` above `[a.c]`).
                throw ConfigError.unsupportedValue(file: file, line: line, section: name, key: key,
                                                   found: "a value set by a dotted key")
            }
            tables[name]?.entries[key] = TOMLTable.Entry(
                value: try Self.value(node, file: file, line: line, section: name, key: key), line: line)
        }
    }

    /// The line of the key at `path`: where it, or the dotted key that made one of its tables, is written; else the
    /// nearest header.
    private static func line(of path: [String], _ lines: TOMLLines) -> Int {
        for split in stride(from: path.count - 1, through: 0, by: -1) {
            if let l = lines.keys[path[..<split].joined(separator: ".")]?[path[split]] { return l }
        }
        for split in stride(from: path.count, through: 1, by: -1) {
            if let l = lines.headers[path[..<split].joined(separator: ".")] { return l }
        }
        return 0
    }

    private static func value(_ node: TOMLKit.TOMLValue, file: String, line: Int, section: String, key: String) throws -> TOMLValue {
        func refuse(_ found: String) -> ConfigError {
            .unsupportedValue(file: file, line: line, section: section, key: key, found: found)
        }
        switch node.type {
        case .string: return .string(node.string ?? "")
        case .int: return .integer(Int64(node.int ?? 0))
        case .double: return .float(node.double ?? 0)
        case .bool: return .bool(node.bool ?? false)
        case .array:
            guard let items = node.array else { return .array([]) }
            return .array(try items.map { item in
                if item.type == .table { throw refuse(item.table?.inline == true ? "an array of inline tables" : "an array of tables") }
                return try value(item.tomlValue, file: file, line: line, section: section, key: key)
            })
        case .table: throw refuse(node.table?.inline == true ? "an inline table" : "a table (a dotted key)")
        case .date, .time, .dateTime: throw refuse("a \(node.type == .date ? "date" : node.type == .time ? "time" : "date-time")")
        }
    }
}
