import Foundation

/// The type a config key must have. An integer literal is accepted where a float is expected
/// (and stored as a float, so `lr = 1` and `lr = 1.0` fingerprint alike).
public indirect enum ConfigType: Sendable, Equatable, CustomStringConvertible {
    case string, integer, float, bool
    case array(ConfigType)

    public var description: String {
        switch self {
        case .string: return "a string"
        case .integer: return "an integer"
        case .float: return "a float"
        case .bool: return "a bool (true/false)"
        case let .array(e): return "an array of \(e.plural)"
        }
    }
    var plural: String {
        switch self {
        case .string: return "strings"
        case .integer: return "integers"
        case .float: return "floats"
        case .bool: return "bools"
        case let .array(e): return "arrays of \(e.plural)"
        }
    }

    /// `value` converted to this type, or nil when it does not fit.
    func coerce(_ value: TOMLValue) -> TOMLValue? {
        switch (self, value) {
        case (.string, .string), (.integer, .integer), (.float, .float), (.bool, .bool): return value
        case let (.float, .integer(i)): return .float(Double(i))
        case let (.array(element), .array(items)):
            var out: [TOMLValue] = []
            for item in items {
                guard let c = element.coerce(item) else { return nil }
                out.append(c)
            }
            return .array(out)
        default: return nil
        }
    }
}

/// One declared key of a config section: name, type, default (nil = required), one-line doc, an
/// optional check returning a message when a well-typed value is out of range, and whether the key
/// changes outputs (only such keys enter the fingerprint; e.g. a log interval does not).
///
/// A key added to a stage after runs exist is declared `optIn`: its default must reproduce the
/// stage's earlier behaviour, and the key enters the fingerprint only when set to something else.
/// A run started before the key existed (possibly hours into a training) then still resumes under
/// the new code, while a run that uses the new option fingerprints differently.
public struct ConfigKey: Sendable {
    public let name: String
    public let type: ConfigType
    public let defaultValue: TOMLValue?
    public let doc: String
    public let affectsOutput: Bool
    /// The key enters the fingerprint only when its value differs from the default (see the type's doc).
    public let optIn: Bool
    public let check: (@Sendable (TOMLValue) -> String?)?

    public init(_ name: String, _ type: ConfigType, default defaultValue: TOMLValue?, doc: String,
                affectsOutput: Bool = true, optIn: Bool = false, check: (@Sendable (TOMLValue) -> String?)? = nil) {
        if let d = defaultValue {
            precondition(type.coerce(d) != nil, "ConfigKey \(name): default \(d) is not \(type)")
        }
        precondition(!optIn || defaultValue != nil, "ConfigKey \(name): an opt-in key needs the default that reproduces the old behaviour")
        self.name = name; self.type = type; self.defaultValue = defaultValue.flatMap(type.coerce)
        self.doc = doc; self.affectsOutput = affectsOutput; self.optIn = optIn; self.check = check
    }

    /// A check for a string key that must be one of `choices` (the message lists them); a choice in `refusing` is
    /// refused with its reason (a choice this machine cannot run, e.g. bf16 without AVX512-BF16).
    public static func oneOf(_ choices: [String], refusing: [String: String] = [:]) -> @Sendable (TOMLValue) -> String? {
        { v in
            if case let .string(s) = v, choices.contains(s) { return refusing[s] }
            return "must be one of: " + choices.joined(separator: ", ")
        }
    }

    /// An integer key constrained to `range`.
    public static func integer(_ name: String, default d: Int?, doc: String, in range: ClosedRange<Int64>? = nil,
                               affectsOutput: Bool = true, optIn: Bool = false) -> ConfigKey {
        var check: (@Sendable (TOMLValue) -> String?)? = nil
        if let r = range {
            check = { (v: TOMLValue) -> String? in
                if case let .integer(i) = v, !r.contains(i) { return "\(i) is outside \(r.lowerBound)...\(r.upperBound)" }
                return nil
            }
        }
        let dv: TOMLValue? = d.map { TOMLValue.integer(Int64($0)) }
        return ConfigKey(name, .integer, default: dv, doc: doc, affectsOutput: affectsOutput, optIn: optIn, check: check)
    }

    /// A float key constrained to `range` (bounds written as integers when whole: "is outside 0...1").
    public static func float(_ name: String, default d: Double?, doc: String, in range: ClosedRange<Double>? = nil,
                             affectsOutput: Bool = true, optIn: Bool = false) -> ConfigKey {
        var check: (@Sendable (TOMLValue) -> String?)? = nil
        if let r = range {
            func bound(_ b: Double) -> String { b == b.rounded() && b.magnitude < 1e15 ? String(Int64(b)) : "\(b)" }
            let text = "\(bound(r.lowerBound))...\(bound(r.upperBound))"
            check = { (v: TOMLValue) -> String? in
                if case let .float(x) = v, !r.contains(x) { return "\(x) is outside \(text)" }
                return nil
            }
        }
        return ConfigKey(name, .float, default: d.map { .float($0) }, doc: doc, affectsOutput: affectsOutput, optIn: optIn, check: check)
    }

    /// An array-of-strings key whose check sees the strings (the schema checks the element type first).
    public static func strings(_ name: String, default d: [String], doc: String,
                               check: @escaping @Sendable ([String]) -> String?) -> ConfigKey {
        list(name, .string, default: d.map { .string($0) }, doc: doc, check: check) { if case let .string(s) = $0 { s } else { nil } }
    }

    /// An array-of-integers key whose check sees the integers.
    public static func integers(_ name: String, default d: [Int], doc: String,
                                check: @escaping @Sendable ([Int]) -> String?) -> ConfigKey {
        list(name, .integer, default: d.map { .integer(Int64($0)) }, doc: doc, check: check) {
            if case let .integer(i) = $0 { Int(i) } else { nil }
        }
    }

    private static func list<T>(_ name: String, _ element: ConfigType, default d: [TOMLValue], doc: String,
                                check: @escaping @Sendable ([T]) -> String?, read: @escaping @Sendable (TOMLValue) -> T?) -> ConfigKey {
        ConfigKey(name, .array(element), default: .array(d), doc: doc) { v in
            guard case let .array(items) = v else { return "must be \(ConfigType.array(element))" }
            return check(items.compactMap(read))
        }
    }
}

/// The declared keys of one section, e.g. `[fake-stage.produce]`.
public struct ConfigSchema: Sendable {
    public let section: String
    public let keys: [ConfigKey]

    public init(section: String, keys: [ConfigKey]) {
        let names = keys.map(\.name)
        precondition(Set(names).count == names.count, "ConfigSchema [\(section)]: duplicate key in \(names)")
        for n in names {
            precondition(Self.snakeCased(n) == n && n.first?.isLetter == true,
                         "ConfigSchema [\(section)]: key '\(n)' is not snake_case (one key style in every section)")
        }
        self.section = section
        self.keys = keys
    }

    func key(_ name: String) -> ConfigKey? { keys.first { $0.name == name } }

    /// `name` in snake_case: `batch-size` and `batchSize` are `batch_size`. Keys were once written with hyphens in
    /// some sections (`[ssl-finetune-vit]`, `[patch-quality]`); such a spelling is refused naming the key it is now.
    static func snakeCased(_ name: String) -> String {
        var out = ""
        for c in name {
            if c == "-" { out.append("_") } else if c.isUppercase { out += (out.isEmpty ? "" : "_") + c.lowercased() } else { out.append(c) }
        }
        return out
    }

    /// The declared key an unknown `name` is an old spelling of (`batch-size` -> `batch_size`), if any.
    func renamed(_ name: String) -> String? {
        let snake = Self.snakeCased(name)
        return snake != name && key(snake) != nil ? snake : nil
    }

    /// Resolves the section of `document` against this schema, then applies `overrides`
    /// (`key=value` strings, value in TOML syntax; a bare word is taken as a string for string keys).
    /// Errors name the file, line and key. A section missing from the file is an error unless every
    /// key has a default (`requireSection: false`).
    public func resolve(_ document: TOMLDocument, overrides: [String] = [],
                        requireSection: Bool = true) throws -> ConfigSection {
        let file = document.file
        let table = document.tables[section]
        if table == nil && requireSection { throw ConfigError.missingSection(file: file, section: section) }
        var values: [String: TOMLValue] = [:]
        var origins: [String: String] = [:]
        // In file order, so the first mistake in the file is the one reported.
        for (name, entry) in (table?.entries ?? [:]).sorted(by: { ($0.value.line, $0.key) < ($1.value.line, $1.key) }) {
            guard let k = key(name) else {
                if let newName = renamed(name) {
                    throw ConfigError.renamedKey(file: file, line: entry.line, section: section, key: name, newName: newName)
                }
                throw ConfigError.unknownKey(file: file, line: entry.line, section: section, key: name,
                                             known: keys.map(\.name))
            }
            guard let v = k.type.coerce(entry.value) else {
                throw ConfigError.wrongType(file: file, line: entry.line, section: section, key: name,
                                            expected: k.type.description, found: describe(entry.value))
            }
            if let message = Self.nonFiniteMessage(v) ?? k.check?(v) {
                throw ConfigError.invalidValue(file: file, line: entry.line, section: section, key: name, message: message)
            }
            values[name] = v
            origins[name] = "\(file):\(entry.line)"
        }
        for text in overrides {
            let (name, v) = try parseOverride(text)
            values[name] = v
            origins[name] = "override \(text)"
        }
        for k in keys where values[k.name] == nil {
            guard let d = k.defaultValue else { throw ConfigError.missingKey(file: file, section: section, key: k.name) }
            values[k.name] = d
            origins[k.name] = "default"
        }
        return ConfigSection(schema: self, file: file, values: values, origins: origins)
    }

    /// Every float of every section must be finite: `inf` and `nan` parse as TOML floats, but no key
    /// means them (a NaN guidance scale or weight would poison every image or score silently).
    static func nonFiniteMessage(_ value: TOMLValue) -> String? {
        switch value {
        case let .float(d) where !d.isFinite:
            return "\(TOMLValue.canonicalFloat(d)) is not a finite number; hint: write a finite value (inf and nan are refused)"
        case let .array(items): return items.lazy.compactMap(nonFiniteMessage).first
        default: return nil
        }
    }

    private func parseOverride(_ text: String) throws -> (String, TOMLValue) {
        guard let eq = text.firstIndex(of: "=") else { throw ConfigError.badOverride(text: text, message: "missing '='") }
        let name = text[..<eq].trimmingCharacters(in: .whitespaces)
        let raw = String(text[text.index(after: eq)...]).trimmingCharacters(in: .whitespaces)
        guard let k = key(name) else {
            if let newName = renamed(name) {
                throw ConfigError.badOverride(text: text, message: "key '\(name)' of [\(section)] is now '\(newName)' (config keys are snake_case)")
            }
            throw ConfigError.badOverride(text: text, message: "unknown key '\(name)' for [\(section)]; known keys: "
                                          + keys.map(\.name).joined(separator: ", "))
        }
        let parsed: TOMLValue
        if let v = try? TOMLDocument.parseValue(raw, source: "--set") {
            parsed = v
        } else if k.type == .string {
            parsed = .string(raw)
        } else {
            throw ConfigError.badOverride(text: text, message: "cannot read '\(raw)' as \(k.type)")
        }
        guard let v = k.type.coerce(parsed) else {
            throw ConfigError.badOverride(text: text, message: "key '\(name)' must be \(k.type), found \(describe(parsed))")
        }
        if let message = Self.nonFiniteMessage(v) ?? k.check?(v) {
            throw ConfigError.badOverride(text: text, message: "key '\(name)' of [\(section)]: \(message)")
        }
        return (name, v)
    }
}

func describe(_ value: TOMLValue) -> String { "\(value.typeName) \(value.canonical)" }
