import Foundation

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
public struct TOMLDocument: Sendable, Equatable {
    /// The file name used in error messages.
    public let file: String
    public var tables: [String: TOMLTable]

    /// Reads and parses a file. Errors: `ConfigError.unreadable`, `.syntax`, `.duplicateKey`, `.duplicateTable`.
    public static func load(_ url: URL) throws -> TOMLDocument {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw ConfigError.unreadable(file: url.path, message: (error as NSError).localizedDescription)
        }
        return try parse(text, file: url.path)
    }

    /// Parses TOML-subset text; `file` only names the source in errors.
    public static func parse(_ text: String, file: String) throws -> TOMLDocument {
        var doc = TOMLDocument(file: file, tables: ["": TOMLTable(line: 0)])
        var current = ""
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNo = index + 1
            var cursor = Cursor(Array(String(rawLine).unicodeScalars), file: file, line: lineNo)
            cursor.skipSpace()
            if cursor.atEndOrComment { continue }
            if cursor.peek == "[" {
                current = try cursor.tableHeader()
                if doc.tables[current] != nil {
                    throw ConfigError.duplicateTable(file: file, line: lineNo, table: current)
                }
                doc.tables[current] = TOMLTable(line: lineNo)
                continue
            }
            let key = try cursor.key()
            cursor.skipSpace()
            if cursor.peek == "." { throw cursor.error("dotted key '\(key).…' is not supported; use a [table] header") }
            guard cursor.peek == "=" else { throw cursor.error("expected '=' after key '\(key)'") }
            cursor.advance()
            cursor.skipSpace()
            let value = try cursor.value()
            try cursor.expectLineEnd()
            if let first = doc.tables[current]?.entries[key] {
                throw ConfigError.duplicateKey(file: file, line: lineNo, key: key, firstLine: first.line)
            }
            doc.tables[current]?.entries[key] = TOMLTable.Entry(value: value, line: lineNo)
        }
        return doc
    }

    /// The deepest nesting of arrays a value may have (`[[1]]` is 2); deeper is a syntax error, not a recursion as deep
    /// as the line is long (a line of 2000 `[` overflowed the stack).
    public static let maxArrayDepth = 32

    /// Parses a single value as written on the right of `=` (used by `--set key=value`).
    public static func parseValue(_ text: String, source: String) throws -> TOMLValue {
        var cursor = Cursor(Array(text.unicodeScalars), file: source, line: 1)
        cursor.skipSpace()
        let value = try cursor.value()
        try cursor.expectLineEnd()
        return value
    }
}

/// A scanner over one line.
private struct Cursor {
    let chars: [Unicode.Scalar]
    let file: String
    let line: Int
    var pos = 0
    /// Arrays open around the value being read (at most `TOMLDocument.maxArrayDepth`).
    var depth = 0

    init(_ chars: [Unicode.Scalar], file: String, line: Int) {
        // Tolerate CRLF files.
        self.chars = chars.last == "\r" ? Array(chars.dropLast()) : chars
        self.file = file
        self.line = line
    }

    var peek: Unicode.Scalar? { pos < chars.count ? chars[pos] : nil }
    var atEndOrComment: Bool { peek == nil || peek == "#" }
    mutating func advance() { pos += 1 }
    mutating func skipSpace() { while let c = peek, c == " " || c == "\t" { pos += 1 } }

    func error(_ message: String) -> ConfigError { .syntax(file: file, line: line, message: message) }

    static func isBare(_ c: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c) || c == "_" || c == "-"
    }

    mutating func expectLineEnd() throws {
        skipSpace()
        guard atEndOrComment else { throw error("unexpected '\(String(chars[pos...].map(Character.init)))' after value") }
    }

    /// `[a.b]` with bare or quoted parts.
    mutating func tableHeader() throws -> String {
        advance()
        if peek == "[" { throw error("arrays of tables ([[...]]) are not supported") }
        var parts: [String] = []
        while true {
            skipSpace()
            parts.append(try key())
            skipSpace()
            if peek == "." { advance(); continue }
            guard peek == "]" else { throw error("expected ']' to close the table header") }
            advance()
            try expectLineEnd()
            return parts.joined(separator: ".")
        }
    }

    /// A bare key `[A-Za-z0-9_-]+` or a quoted key. Dotted keys are refused (use a table header).
    mutating func key() throws -> String {
        let k: String
        if peek == "\"" || peek == "'" {
            k = try string()
        } else {
            let start = pos
            while let c = peek, Cursor.isBare(c) { advance() }
            guard pos > start else {
                throw error(peek.map { "unexpected '\($0)' where a key was expected" } ?? "expected a key")
            }
            k = String(String.UnicodeScalarView(chars[start..<pos]))
        }
        return k
    }

    mutating func value() throws -> TOMLValue {
        guard let c = peek else { throw error("missing value after '='") }
        switch c {
        case "\"", "'": return .string(try string())
        case "[": return try array()
        case "{": throw error("inline tables ({...}) are not supported")
        default: return try scalarWord()
        }
    }

    mutating func array() throws -> TOMLValue {
        guard depth < TOMLDocument.maxArrayDepth else {
            throw error("arrays nested more than \(TOMLDocument.maxArrayDepth) deep are not supported")
        }
        depth += 1
        defer { depth -= 1 }
        advance()
        var items: [TOMLValue] = []
        while true {
            skipSpace()
            if peek == "]" { advance(); return .array(items) }
            if peek == nil || peek == "#" { throw error("unterminated array (arrays must fit on one line)") }
            items.append(try value())
            skipSpace()
            if peek == "," { advance(); continue }
            if peek == nil || peek == "#" { throw error("unterminated array (arrays must fit on one line)") }
            guard peek == "]" else { throw error("expected ',' or ']' in array") }
        }
    }

    mutating func string() throws -> String {
        let quote = peek!
        advance()
        if peek == quote, pos + 1 < chars.count, chars[pos + 1] == quote {
            throw error("multi-line strings are not supported")
        }
        var out = String.UnicodeScalarView()
        while let c = peek {
            advance()
            if c == quote { return String(out) }
            if c == "\\" && quote == "\"" {
                guard let e = peek else { break }
                advance()
                switch e {
                case "\"": out.append("\"")
                case "\\": out.append("\\")
                case "n": out.append("\n")
                case "t": out.append("\t")
                case "r": out.append("\r")
                case "u":
                    guard pos + 4 <= chars.count,
                          let v = UInt32(String(String.UnicodeScalarView(chars[pos..<pos + 4])), radix: 16),
                          let s = Unicode.Scalar(v) else { throw error("bad \\u escape (need 4 hex digits)") }
                    pos += 4
                    out.append(s)
                default: throw error("unknown escape '\\\(e)' in string")
                }
            } else {
                out.append(c)
            }
        }
        throw error("unterminated string")
    }

    /// Integers, floats, booleans: the characters up to a delimiter, then classified.
    mutating func scalarWord() throws -> TOMLValue {
        let start = pos
        while let c = peek, c != ",", c != "]", c != " ", c != "\t", c != "#" { advance() }
        let word = String(String.UnicodeScalarView(chars[start..<pos]))
        if word == "true" { return .bool(true) }
        if word == "false" { return .bool(false) }
        if let v = Cursor.number(word) { return v }
        throw error("cannot read value '\(word)' (strings need quotes: \"\(word)\")")
    }

    static func number(_ word: String) -> TOMLValue? {
        switch word {
        case "inf", "+inf": return .float(.infinity)
        case "-inf": return .float(-.infinity)
        case "nan", "+nan", "-nan": return .float(.nan)
        default: break
        }
        // Underscores only between digits.
        let scalars = Array(word.unicodeScalars)
        for (i, c) in scalars.enumerated() where c == "_" {
            let digit: (Unicode.Scalar) -> Bool = { ("0"..."9").contains($0) }
            guard i > 0, i + 1 < scalars.count, digit(scalars[i - 1]), digit(scalars[i + 1]) else { return nil }
        }
        let plain = word.replacingOccurrences(of: "_", with: "")
        guard let first = plain.unicodeScalars.first, first == "+" || first == "-" || ("0"..."9").contains(first)
        else { return nil }
        let digits = plain.hasPrefix("+") || plain.hasPrefix("-") ? String(plain.dropFirst()) : plain
        guard let d0 = digits.unicodeScalars.first, ("0"..."9").contains(d0) else { return nil }
        if digits.allSatisfy(\.isNumber) {
            if digits.count > 1 && digits.hasPrefix("0") { return nil }     // no leading zeros
            return Int64(plain).map { .integer($0) }
        }
        let allowed = Set("0123456789.eE+-")
        guard plain.allSatisfy({ allowed.contains($0) }) else { return nil }
        if plain.contains(".") {
            // TOML needs digits on both sides of the point.
            let parts = digits.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 2, parts[1].first?.isNumber == true, !parts[0].isEmpty else { return nil }
        }
        return Double(plain).map { .float($0) }
    }
}
