/// Where each `[table]` header and each key of a TOML text is written: the line numbers of the schema's
/// `file:line` errors.
///
/// TOMLKit parses the text (toml++, `TOMLDocument.parse`), but its Swift API (0.6.0) hands out values without
/// the source positions toml++ keeps, so this scanner finds them. It never reads a value: it takes a statement's
/// header or key, then skips the value by its strings (`"..."`, `'...'`, `"""..."""`, `'''...'''`), comments and
/// brackets, which is all it takes to know where the next statement starts (a multi-line array or string spans
/// lines). It runs only on text TOMLKit has accepted; a key it cannot place is given its table's header line.
struct TOMLLines {
    /// The line of each `[header]` or `[[header]]`, by dotted name (`fake-stage.produce`), first occurrence.
    private(set) var headers: [String: Int] = [:]
    /// The line of each key, by the dotted name of the table it is written in, then its first part
    /// (`a` for `a.b = 1`).
    private(set) var keys: [String: [String: Int]] = [:]
    /// The first place where toml++ 3.4.0 (TOMLKit 0.6.0) fails an `assert` (an abort, exit 134, as SwiftPM builds
    /// it without NDEBUG in debug and release) instead of reporting an error, so `TOMLDocument.parse` refuses the
    /// text before toml++ reads it. Each is invalid TOML, found by fuzzing (Tests/Fuzz/corpus/toml/crash-*):
    /// a header whose `[` (or `[[`) is followed by neither a name nor `]` (`[.a]`, a `[` alone on its line); a `}`
    /// inside an array (`[}`); U+0085, U+2028 or U+2029 outside strings and comments.
    private(set) var unsafe: (line: Int, message: String)?

    private let s: [Unicode.Scalar]
    private var i = 0
    private var line = 1

    init(_ text: String) {
        s = Array(text.unicodeScalars)
        if s.first == "\u{FEFF}" { i = 1 }
        var table = ""
        while i < s.count {
            let c = s[i]
            if c == " " || c == "\t" || c == "\r" { i += 1; continue }
            if c == "\n" { i += 1; line += 1; continue }
            if c == "#" { skipComment(); continue }
            if Self.isUnicodeLineBreak(c) { refuse("U+\(String(c.value, radix: 16, uppercase: true)) outside a string"); i += 1; continue }
            let start = line
            if c == "[" {
                i += 1
                let spaced = skipSpaces()
                if peek == "[" && !spaced { i += 1; skipSpaces() }       // `[[`; toml++ itself refuses `[ [`
                if let d = peek, !(Self.isBare(d) || d == "\"" || d == "'" || d == "]" || (d == "[" && spaced)) {
                    refuse("expected a table name after '[', found " + (d == "\n" || d == "\r" ? "the end of the line" : "'\(d)'"))
                }
                table = keyPath().joined(separator: ".")
                if headers[table] == nil { headers[table] = start }
                skipValue()                             // the closing bracket(s) and any comment
            } else {
                let parts = keyPath()
                if let first = parts.first, keys[table]?[first] == nil { keys[table, default: [:]][first] = start }
                skipValue()
            }
        }
    }

    private var peek: Unicode.Scalar? { i < s.count ? s[i] : nil }

    private mutating func refuse(_ message: String) {
        if unsafe == nil { unsafe = (line, message) }
    }

    /// U+0085, U+2028, U+2029: toml++'s non-ASCII vertical whitespace, a value terminator it asserts on.
    private static func isUnicodeLineBreak(_ c: Unicode.Scalar) -> Bool { c == "\u{85}" || c == "\u{2028}" || c == "\u{2029}" }

    /// A character of a bare key (TOML 1.0: ASCII letters, digits, `_`, `-`).
    private static func isBare(_ d: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(d) || ("A"..."Z").contains(d) || ("0"..."9").contains(d) || d == "_" || d == "-"
    }

    /// `a.b."c d".'e'`: the parts of a key or header name, quotes removed and basic-string escapes applied.
    private mutating func keyPath() -> [String] {
        var parts: [String] = []
        while i < s.count {
            while peek == " " || peek == "\t" { i += 1 }
            guard let c = peek else { break }
            if c == "\"" || c == "'" {
                parts.append(quotedKey(c))
            } else {
                var part = String.UnicodeScalarView()
                while let d = peek, Self.isBare(d) {
                    part.append(d); i += 1
                }
                if part.isEmpty { break }
                parts.append(String(part))
            }
            while peek == " " || peek == "\t" { i += 1 }
            guard peek == "." else { break }
            i += 1
        }
        return parts
    }

    private mutating func quotedKey(_ quote: Unicode.Scalar) -> String {
        i += 1
        var out = String.UnicodeScalarView()
        while let c = peek, c != "\n" {
            i += 1
            if c == quote { break }
            if c == "\\" && quote == "\"", let e = peek {
                i += 1
                switch e {
                case "n": out.append("\n")
                case "t": out.append("\t")
                case "r": out.append("\r")
                case "b": out.append("\u{8}")
                case "f": out.append("\u{C}")
                case "e": out.append("\u{1B}")
                case "u", "U":
                    let n = e == "u" ? 4 : 8
                    if i + n <= s.count, let v = UInt32(String(String.UnicodeScalarView(s[i..<i + n])), radix: 16),
                       let u = Unicode.Scalar(v) {
                        out.append(u); i += n
                    }
                default: out.append(e)
                }
            } else {
                out.append(c)
            }
        }
        return String(out)
    }

    @discardableResult private mutating func skipSpaces() -> Bool {
        let start = i
        while peek == " " || peek == "\t" { i += 1 }
        return i > start
    }

    private mutating func skipComment() { while let c = peek, c != "\n" { i += 1 } }

    /// The rest of a statement: up to the newline that ends it outside every bracket and string.
    private mutating func skipValue() {
        var open: [Unicode.Scalar] = []                 // the brackets the value is inside, innermost last
        while let c = peek {
            switch c {
            case "\n":
                i += 1; line += 1
                if open.isEmpty { return }
            case "#": skipComment()
            case "[", "{": open.append(c); i += 1
            case "]", "}":
                if c == "}" && open.last == "[" { refuse("'}' inside an array (an array ends with ']')") }
                _ = open.popLast(); i += 1
            case "\"", "'": skipString(c)
            default:
                if Self.isUnicodeLineBreak(c) { refuse("U+\(String(c.value, radix: 16, uppercase: true)) outside a string") }
                i += 1
            }
        }
    }

    /// A string value, single- or multi-line (a multi-line one may end in up to two more quotes: `"""a""""`).
    private mutating func skipString(_ quote: Unicode.Scalar) {
        let multi = i + 2 < s.count && s[i + 1] == quote && s[i + 2] == quote
        i += multi ? 3 : 1
        while let c = peek {
            if c == "\n" {
                if !multi { return }
                line += 1
            } else if c == "\\" && quote == "\"" {
                i += 1
                if peek == "\n" { line += 1 }
            } else if c == quote {
                if !multi { i += 1; return }
                if i + 2 < s.count && s[i + 1] == quote && s[i + 2] == quote {
                    i += 3
                    while peek == quote { i += 1 }
                    return
                }
            }
            i += 1
        }
    }
}
