/// A config value: what a key of a `pipelines/*.toml` section may hold.
///
/// TOML strings (basic, literal, multi-line), integers (decimal, hex `0x`, octal `0o`, binary `0b`, `_` separators),
/// floats (`1.5`, `1e-3`, `inf`, `nan`), booleans and arrays of those (nested, over several lines); TOMLKit parses
/// them (`TOMLDocument`). Tables as values, arrays of tables and dates are refused with file:line
/// (`ConfigError.unsupportedValue`): no key takes them.
public enum TOMLValue: Sendable, Equatable, CustomStringConvertible {
    case string(String)
    case integer(Int64)
    case float(Double)
    case bool(Bool)
    case array([TOMLValue])

    /// Name of the value's type as written in schemas and error messages.
    public var typeName: String {
        switch self {
        case .string: return "string"
        case .integer: return "integer"
        case .float: return "float"
        case .bool: return "bool"
        case .array: return "array"
        }
    }

    /// Canonical text: the value as TOML would read it back identically.
    /// Floats use the shortest round-trip form and always carry a `.` or exponent
    /// (`1.0`, `0.001`, `1e-10`), so `1.0` and `1.00` serialise alike; `-0.0` becomes `0.0`;
    /// non-finite floats are `inf`, `-inf`, `nan`. Strings are double-quoted with escapes.
    public var canonical: String {
        switch self {
        case let .string(s): return TOMLValue.quote(s)
        case let .integer(i): return String(i)
        case let .float(d): return TOMLValue.canonicalFloat(d)
        case let .bool(b): return b ? "true" : "false"
        case let .array(items): return "[" + items.map(\.canonical).joined(separator: ", ") + "]"
        }
    }

    public var description: String { canonical }

    static func canonicalFloat(_ d: Double) -> String {
        if d.isNaN { return "nan" }
        if d.isInfinite { return d > 0 ? "inf" : "-inf" }
        if d == 0 { return "0.0" }
        var s = "\(d)"                       // Swift prints the shortest round-trip representation
        if !s.contains(".") && !s.contains("e") && !s.contains("E") { s += ".0" }
        return s
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7f {
                    let hex = String(scalar.value, radix: 16, uppercase: true)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
