/// A resolved config section: every key of its schema with a value of the declared type
/// (from the file, an override, or the default), with typed accessors.
///
/// `canonical` is the text that enters the stage fingerprint: one `key = value` line per key
/// with `affectsOutput`, keys sorted by byte order, values in `TOMLValue.canonical` form.
/// Reading a key the schema does not declare is programmer misuse (precondition).
public struct ConfigSection: Sendable {
    public let schema: ConfigSchema
    public let file: String
    public let values: [String: TOMLValue]
    /// Where each value came from: "file:line", "override key=value" or "default".
    public let origins: [String: String]

    public var name: String { schema.section }

    public var canonical: String {
        let fingerprinted = Set(schema.keys.filter { k in
            k.affectsOutput && !(k.optIn && values[k.name].map { $0.canonical == k.defaultValue?.canonical } == true)
        }.map(\.name))
        return values.keys.filter(fingerprinted.contains).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            .map { "\($0) = \(values[$0]!.canonical)\n" }.joined()
    }

    /// Every key's value as text, for a report's config table: a string as it is, any other value in canonical form.
    public var texts: [String: String] {
        Dictionary(uniqueKeysWithValues: schema.keys.map { k in
            if case let .string(s) = value(k.name) { return (k.name, s) }
            return (k.name, value(k.name).canonical)
        })
    }

    /// A refusal of `key`'s value that no single-key check can make (it depends on another key), naming
    /// where the value came from: its file and line, or the `--set` override that set it.
    public func invalid(_ key: String, _ message: String) -> ConfigError {
        let origin = origins[key] ?? "default"
        if origin.hasPrefix("override ") { return .badOverride(text: String(origin.dropFirst("override ".count)), message: message) }
        if let colon = origin.lastIndex(of: ":"), let line = Int(origin[origin.index(after: colon)...]) {
            return .invalidValue(file: String(origin[..<colon]), line: line, section: name, key: key, message: message)
        }
        return .invalidValue(file: file, line: 0, section: name, key: key, message: message + " (the schema's default)")
    }

    public func value(_ key: String) -> TOMLValue {
        guard let v = values[key] else {
            preconditionFailure("[\(name)] has no key '\(key)'; declared: \(schema.keys.map(\.name))")
        }
        return v
    }

    public func string(_ key: String) -> String {
        guard case let .string(s) = value(key) else { preconditionFailure("[\(name)].\(key) is \(value(key).typeName), not string") }
        return s
    }

    public func int(_ key: String) -> Int {
        guard case let .integer(i) = value(key) else { preconditionFailure("[\(name)].\(key) is \(value(key).typeName), not integer") }
        return Int(i)
    }

    public func double(_ key: String) -> Double {
        switch value(key) {
        case let .float(d): return d
        case let .integer(i): return Double(i)
        default: preconditionFailure("[\(name)].\(key) is \(value(key).typeName), not float")
        }
    }

    public func bool(_ key: String) -> Bool {
        guard case let .bool(b) = value(key) else { preconditionFailure("[\(name)].\(key) is \(value(key).typeName), not bool") }
        return b
    }

    public func strings(_ key: String) -> [String] {
        guard case let .array(items) = value(key) else { preconditionFailure("[\(name)].\(key) is \(value(key).typeName), not array") }
        return items.map { item in
            guard case let .string(s) = item else { preconditionFailure("[\(name)].\(key) holds \(item.typeName), not string") }
            return s
        }
    }

    /// An array-of-integers key (the schema validates the element type).
    public func ints(_ key: String) -> [Int] {
        guard case let .array(items) = value(key) else { preconditionFailure("[\(name)].\(key) is \(value(key).typeName), not array") }
        return items.map { item in
            guard case let .integer(i) = item else { preconditionFailure("[\(name)].\(key) holds \(item.typeName), not integer") }
            return Int(i)
        }
    }

    /// An array-of-floats key (integers read as floats, as `double` does).
    public func doubles(_ key: String) -> [Double] {
        guard case let .array(items) = value(key) else { preconditionFailure("[\(name)].\(key) is \(value(key).typeName), not array") }
        return items.map { item in
            switch item {
            case let .float(d): return d
            case let .integer(i): return Double(i)
            default: preconditionFailure("[\(name)].\(key) holds \(item.typeName), not float")
            }
        }
    }
}

extension TOMLDocument {
    /// Whole-document canonical text (tables and keys sorted, values canonical): the run's config hash.
    public var canonical: String {
        tables.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }.compactMap { name -> String? in
            let table = tables[name]!
            if table.entries.isEmpty && name.isEmpty { return nil }
            let lines = table.entries.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
                .map { "\($0) = \(table.entries[$0]!.value.canonical)\n" }.joined()
            return "[\(name)]\n" + lines
        }.joined()
    }
}
