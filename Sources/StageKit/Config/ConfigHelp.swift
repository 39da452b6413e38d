/// Text made from a schema for people: the key list of a stage's `--help`, and the effective config that
/// `--show-config` (and `inspect config --stage X`) prints. Both are TOML a config file could hold.
extension ConfigSchema {
    /// Every key as `name = default` (`(required)` when it has none), then its doc, type and whether it enters the
    /// fingerprint, wrapped to `width` columns.
    public func help(width: Int = 78) -> String {
        var out = "Config keys of [\(section)] (in --config; --set key=value overrides one; --show-config prints the "
            + "effective values):\n"
        if keys.isEmpty { return out + "  (none)\n" }
        for k in keys {
            out += "  \(k.name) = \(k.defaultValue?.canonical ?? "(required)")\n"
            var notes = [k.type.description]
            if !k.affectsOutput { notes.append("not in the fingerprint") }
            if k.optIn { notes.append("in the fingerprint only away from its default") }
            out += wrap(k.doc + " (" + notes.joined(separator: "; ") + ")", indent: 6, width: width)
        }
        return out
    }
}

extension ConfigSection {
    /// `[section]` and every key as `name = value  # origin` (the file and line it was read from, the override
    /// that set it, or `default`), in the schema's order.
    public var effective: String {
        let lines = schema.keys.map { k in "\(k.name) = \(value(k.name).canonical)" }
        let column = min(40, (lines.map(\.count).max() ?? 0) + 2)
        return "[\(name)]\n" + zip(schema.keys, lines).map { k, line in
            line + String(repeating: " ", count: max(2, column - line.count)) + "# \(origins[k.name] ?? "default")\n"
        }.joined()
    }
}

/// `text` broken at spaces into lines of at most `width` columns (a longer word stays whole), each indented.
func wrap(_ text: String, indent: Int, width: Int) -> String {
    let pad = String(repeating: " ", count: indent)
    var out = "", line = ""
    for word in text.split(separator: " ") {
        if !line.isEmpty && indent + line.count + 1 + word.count > width {
            out += pad + line + "\n"
            line = ""
        }
        line += (line.isEmpty ? "" : " ") + word
    }
    return line.isEmpty ? out : out + pad + line + "\n"
}
