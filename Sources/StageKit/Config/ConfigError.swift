import ErrorKinds

/// Every problem with a config file or a config override. Each case names the file (and line,
/// section, key when known); `description` ends with a hint for the next step.
public enum ConfigError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The file could not be read.
    case unreadable(file: String, message: String)
    /// The text is not TOML (toml++'s message: also a key or `[table]` defined twice).
    case syntax(file: String, line: Int, message: String)
    /// Valid TOML that no config key takes: a table as a value (dotted key, inline table), an array of tables, a date.
    case unsupportedValue(file: String, line: Int, section: String, key: String, found: String)
    /// A key the section's schema does not declare.
    case unknownKey(file: String, line: Int, section: String, key: String, known: [String])
    /// A key written in an old spelling (`batch-size`) whose key is now `newName` (`batch_size`): keys are snake_case.
    case renamedKey(file: String, line: Int, section: String, key: String, newName: String)
    /// A value whose type differs from the schema's.
    case wrongType(file: String, line: Int, section: String, key: String, expected: String, found: String)
    /// A value of the right type that the schema's check refuses.
    case invalidValue(file: String, line: Int, section: String, key: String, message: String)
    /// A `[table]` that no stage reads (a misspelt section would otherwise be ignored silently).
    case unknownSection(file: String, line: Int, section: String, known: [String])
    /// A `key = value` line before the first `[table]` header, which no stage reads.
    case keyOutsideSection(file: String, line: Int, key: String)
    /// A required section is absent.
    case missingSection(file: String, section: String)
    /// A required key (schema default nil) is absent.
    case missingKey(file: String, section: String, key: String)
    /// A `--set key=value` (or stage flag) override that cannot be applied.
    case badOverride(text: String, message: String)

    public var description: String {
        switch self {
        case let .unreadable(file, message):
            return "\(file): cannot read config (\(message)); hint: pass an existing file with --config, e.g. pipelines/smoke.toml"
        case let .syntax(file, line, message):
            return "\(file):\(line): \(message); hint: configs are TOML 1.0 (see pipelines/default.toml)"
        case let .unsupportedValue(file, line, section, key, found):
            return "\(file):\(line): key '\(key)' in [\(section)] holds \(found), which no config key takes; hint: a value is "
                + "a string, number, bool or array of those, and every section has its own [header]"
        case let .unknownKey(file, line, section, key, known):
            let close = known.filter { editDistance($0, key) <= 2 }
            let suggestion = close.isEmpty ? "known keys: \(known.joined(separator: ", "))" : "did you mean '\(close[0])'?"
            return "\(file):\(line): unknown key '\(key)' in [\(section)]; hint: \(suggestion)"
        case let .renamedKey(file, line, section, key, newName):
            return "\(file):\(line): key '\(key)' in [\(section)] is now '\(newName)'; hint: rename it (config keys are snake_case)"
        case let .unknownSection(file, line, section, known):
            let close = known.filter { editDistance($0, section) <= 2 }.sorted { editDistance($0, section) < editDistance($1, section) }
            let suggestion = close.isEmpty ? "known sections: \(known.joined(separator: ", "))" : "did you mean [\(close[0])]?"
            return "\(file):\(line): unknown section [\(section)], which no stage reads; hint: \(suggestion)"
        case let .keyOutsideSection(file, line, key):
            return "\(file):\(line): key '\(key)' comes before any [section], where no stage reads it; hint: move it into "
                + "[run] or its stage's section"
        case let .wrongType(file, line, section, key, expected, found):
            return "\(file):\(line): key '\(key)' in [\(section)] must be \(expected), found \(found); hint: fix the value's type"
        case let .invalidValue(file, line, section, key, message):
            return "\(file):\(line): key '\(key)' in [\(section)]: \(message)"
        case let .missingSection(file, section):
            return "\(file): no [\(section)] section; hint: add one (see pipelines/default.toml for its keys)"
        case let .missingKey(file, section, key):
            return "\(file): [\(section)] needs key '\(key)'; hint: add it (see pipelines/default.toml)"
        case let .badOverride(text, message):
            return "override '\(text)': \(message); hint: write --set key=value with a key of this stage's section"
        }
    }
}

extension ConfigError: ClassifiedError {
    /// Every config problem is bad data (exit 65): the file exists (flags check that first) but says
    /// something the schema refuses.
    public var errorKind: ErrorKind { .badData }
}

/// Levenshtein distance, for "did you mean" hints on short keys.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var prev = Array(0...b.count)
    var cur = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        cur[0] = i
        for j in 1...b.count {
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        swap(&prev, &cur)
    }
    return prev[b.count]
}
