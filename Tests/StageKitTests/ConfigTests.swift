import Foundation
import Testing
@testable import StageKit

private let schema = ConfigSchema(section: "fake-stage.produce", keys: [
    .integer("count", default: 8, doc: "items", in: 1...1000),
    ConfigKey("prefix", .string, default: .string("item"), doc: "key prefix"),
    ConfigKey("scale", .float, default: .float(1), doc: "a float"),
    ConfigKey("loud", .bool, default: .bool(false), doc: "a bool", affectsOutput: false),
    ConfigKey("tags", .array(.string), default: .array([]), doc: "strings"),
])

@Test func parsesTablesValuesAndComments() throws {
    let doc = try TOMLDocument.parse("""
    # comment
    top = 1
    [run]
    name = "smoke"   # trailing comment
    seed = 1_000
    [fake-stage.produce]
    scale = -2.5e-3
    tags = ["a", 'b\\n', "c\\"d"]
    nested = [[1, 2], [3]]
    flag = true
    big = 9223372036854775807
    """, file: "t.toml")
    #expect(doc.tables[""]?.entries["top"]?.value == .integer(1))
    #expect(doc.tables["run"]?.entries["name"]?.value == .string("smoke"))
    #expect(doc.tables["run"]?.entries["seed"]?.value == .integer(1000))
    let t = try #require(doc.tables["fake-stage.produce"])
    #expect(t.entries["scale"]?.value == .float(-0.0025))
    #expect(t.entries["tags"]?.value == .array([.string("a"), .string("b\\n"), .string("c\"d")]))
    #expect(t.entries["nested"]?.value == .array([.array([.integer(1), .integer(2)]), .array([.integer(3)])]))
    #expect(t.entries["flag"]?.value == .bool(true))
    #expect(t.entries["big"]?.value == .integer(Int64.max))
    #expect(t.entries["tags"]?.line == 8)
}

/// TOMLKit (toml++) reports the line; the message keeps the project's `file:line: ` form and names toml++'s column
/// (a NUL and what toml++ 3.4.0 would abort on are refused before it reads the text: no column).
@Test(arguments: [
    ("a = ", 1, ""),
    ("[t]\nx = 01", 2, ""),
    ("x = bare", 1, ""),
    ("x = \"open", 1, ""),
    ("x = [1, 2", 1, ""),
    ("x = 1 2", 1, ""),
    ("\n\n[t\n", 3, ""),
    ("x = 1.", 1, ""),
    ("[t]\nx = 1\nx = 2", 3, "redefine"),
    ("[t]\nx = 1\n[t]", 3, "redefine"),
    ("[t]\nx = [\n  1,\n  2 3,\n]", 4, ""),
    ("[t]\nx = \"a\\qb\"", 2, "escape"),
    ("[t]\nx = 1\u{0}\ny = 2", 2, "NUL"),
    // toml++ 3.4.0 asserts (aborts) on these; refused before it reads the text (TOMLLines.unsafe, fuzz corpus).
    ("[\nk]t = 1\nk t]\n", 1, "found the end of the line"),
    ("[t]\nx = 1\n[.a]", 3, "table name after '[', found '.'"),
    ("[[ =]]", 1, "found '='"),
    ("[[[a]]]", 1, "found '['"),
    ("[é]", 1, "found 'é'"),
    ("x = 1\r\n[\r\n", 2, "the end of the line"),
    ("[t]\nx = [\n  1,\n  }]", 4, "'}' inside an array"),
    ("x = [1, \u{2028}]", 1, "U+2028 outside a string"),
])
func syntaxErrorsNameFileAndLine(text: String, line: Int, fragment: String) {
    #expect {
        _ = try TOMLDocument.parse(text, file: "bad.toml")
    } throws: { error in
        guard case let .syntax(file, l, message) = error as? ConfigError else { return false }
        return file == "bad.toml" && l == line && (fragment.isEmpty || message.contains(fragment)) && message.contains("column") == !(fragment == "NUL" || message.hasPrefix("expected a table name") || fragment.contains("U+")
                                                || fragment.contains("inside an array"))
            && "\(error)".hasPrefix("bad.toml:\(line): ") && "\(error)".hasSuffix("hint: configs are TOML 1.0 (see pipelines/default.toml)")
    }
}

/// Valid TOML that no key takes (a table as a value, an array of tables, a date) is refused naming its line.
@Test(arguments: [
    ("[t]\na.b = 1", 2, "t", "a", "a table (a dotted key)"),
    ("[t]\n\nx = {a = 1}", 3, "t", "x", "an inline table"),
    ("[t]\nx = [{a = 1}]", 2, "t", "x", "an array of inline tables"),
    ("[[t]]\nx = 1", 1, "", "t", "an array of tables"),
    ("[t]\nd = 1979-05-27", 2, "t", "d", "a date"),
    ("a.b = 1\n[a.c]\nx = 1", 1, "a", "b", "a value set by a dotted key"),
])
func tablesArraysOfTablesAndDatesAreRefusedWithTheirLine(text: String, line: Int, section: String, key: String, found: String) {
    #expect(throws: ConfigError.unsupportedValue(file: "u.toml", line: line, section: section, key: key, found: found)) {
        try TOMLDocument.parse(text, file: "u.toml")
    }
}

/// TOML that the hand-written subset refused and users write: multi-line arrays (with comments and a trailing comma),
/// `"""` and `'''` strings, hex, octal and binary integers. Lines inside a multi-line value are not read as keys
/// or headers, and every key keeps the line it is written on.
@Test func multiLineArraysTripleQuotedStringsAndHexIntegersAreRead() throws {
    let doc = try TOMLDocument.parse("""
    [run]
    name = "t"

    [fake-stage.produce]
    tags = [
      "a",   # first
      "b",
    ]
    prefix = \"\"\"
    [not-a-table]
    count = 99\"\"\"
    count = 0x1F
    loud = true
    scale = 1_000.5
    note = '''
    x = 1
    '''
    masks = [0o17, 0b101, -0]
    """, file: "m.toml")
    #expect(doc.tables["not-a-table"] == nil)
    let t = try #require(doc.tables["fake-stage.produce"])
    #expect(t.line == 4)
    #expect(t.entries["tags"] == TOMLTable.Entry(value: .array([.string("a"), .string("b")]), line: 5))
    #expect(t.entries["prefix"] == TOMLTable.Entry(value: .string("[not-a-table]\ncount = 99"), line: 9))
    #expect(t.entries["count"] == TOMLTable.Entry(value: .integer(31), line: 12))
    #expect(t.entries["loud"]?.line == 13)
    #expect(t.entries["scale"] == TOMLTable.Entry(value: .float(1000.5), line: 14))
    #expect(t.entries["note"] == TOMLTable.Entry(value: .string("x = 1\n"), line: 15))
    #expect(t.entries["masks"] == TOMLTable.Entry(value: .array([.integer(15), .integer(5), .integer(0)]), line: 18))
    // The schema's errors keep the key's line after multi-line values.
    #expect(throws: ConfigError.unknownKey(file: "m.toml", line: 15, section: "fake-stage.produce", key: "note",
                                           known: ["count", "prefix", "scale", "loud", "tags"])) {
        try schema.resolve(doc)
    }
    #expect(try TOMLDocument.parseValue("0xff", source: "--set") == .integer(255))
}

/// Arrays nested thousands deep once overflowed the hand-written parser's stack (Tests/Fuzz/corpus/toml/); toml++
/// stops at 256 levels with a syntax error naming the line.
@Test func arraysNestedTooDeepAreASyntaxErrorNotAStackOverflow() throws {
    let open = String(repeating: "[", count: 100_000)
    for text in ["x = " + open, "x = " + open + String(repeating: "]", count: 100_000)] {
        #expect {
            _ = try TOMLDocument.parse("[t]\n" + text, file: "deep.toml")
        } throws: { error in
            guard case let .syntax(file, line, message) = error as? ConfigError else { return false }
            return file == "deep.toml" && line == 2 && message.contains("nested")
        }
    }
    #expect(throws: ConfigError.self) { _ = try TOMLDocument.parseValue(open, source: "--set") }
    var value = TOMLValue.integer(1)
    for _ in 0..<32 { value = .array([value]) }
    #expect(try TOMLDocument.parseValue(value.canonical, source: "--set") == value)
    #expect(throws: ConfigError.self) { _ = try TOMLDocument.parseValue("1\nx = 2", source: "--set") }
    #expect(throws: ConfigError.self) { _ = try TOMLDocument.parseValue("[}", source: "--set") }   // toml++ asserted (fuzz)
}

/// Keys are snake_case in every section; a key in an old spelling (the hyphens `[ssl-finetune-vit]` and
/// `[patch-quality]` used, or camelCase) is refused naming the key it is now, in the file and in `--set`.
@Test func anOldKeySpellingNamesTheNewKey() throws {
    let s = ConfigSchema(section: "ssl-finetune-vit", keys: [.integer("batch_size", default: 16, doc: "images per step")])
    for old in ["batch-size", "batchSize"] {
        let doc = try TOMLDocument.parse("[ssl-finetune-vit]\n\(old) = 4\n", file: "o.toml")
        #expect(throws: ConfigError.renamedKey(file: "o.toml", line: 2, section: "ssl-finetune-vit", key: old, newName: "batch_size")) {
            try s.resolve(doc)
        }
        #expect {
            _ = try s.resolve(TOMLDocument.parse("[ssl-finetune-vit]\n", file: "o.toml"), overrides: ["\(old)=4"])
        } throws: { "\($0)".contains("key '\(old)' of [ssl-finetune-vit] is now 'batch_size'") }
    }
    #expect("\(ConfigError.renamedKey(file: "o.toml", line: 2, section: "s", key: "batch-size", newName: "batch_size"))"
            == "o.toml:2: key 'batch-size' in [s] is now 'batch_size'; hint: rename it (config keys are snake_case)")
    #expect(ConfigSchema.snakeCased("fg-cell-threshold") == "fg_cell_threshold" && ConfigSchema.snakeCased("w_vit_cls") == "w_vit_cls")
    // A spelling that is no declared key's stays an unknown key.
    #expect(throws: ConfigError.self) { try s.resolve(TOMLDocument.parse("[ssl-finetune-vit]\nbatch-sizes = 4\n", file: "o.toml")) }
}

/// `--help` lists every key with its default and doc; `--show-config` prints every value with its origin.
@Test func helpAndEffectiveConfigComeFromTheSchema() throws {
    let required = ConfigSchema(section: "r", keys: [ConfigKey("name", .string, default: nil, doc: "the name")])
    let help = schema.help()
    for line in ["  count = 8\n", "  prefix = \"item\"\n", "  scale = 1.0\n", "  loud = false\n", "  tags = []\n",
                 "      items (an integer)\n", "      a bool (a bool (true/false); not in the fingerprint)\n"] {
        #expect(help.contains(line), "\(help)")
    }
    #expect(required.help().contains("  name = (required)\n      the name (a string)\n"))
    let doc = try TOMLDocument.parse("[fake-stage.produce]\ncount = 3\n", file: "c.toml")
    let e = try schema.resolve(doc, overrides: ["scale=2"]).effective
    let lines = e.split(separator: "\n").map { $0.split(separator: "#").map { $0.trimmingCharacters(in: .whitespaces) } }
    #expect(lines == [["[fake-stage.produce]"], ["count = 3", "c.toml:2"], ["prefix = \"item\"", "default"],
                      ["scale = 2.0", "override scale=2"], ["loud = false", "default"], ["tags = []", "default"]], "\(e)")
    // The origins line up in one column.
    #expect(Set(e.split(separator: "\n").dropFirst().map { $0.prefix { $0 != "#" }.count }).count == 1, "\(e)")
}

@Test func schemaFillsDefaultsAndPromotesIntegersToFloats() throws {
    let doc = try TOMLDocument.parse("[fake-stage.produce]\ncount = 3\nscale = 2\n", file: "c.toml")
    let s = try schema.resolve(doc)
    #expect(s.int("count") == 3)
    #expect(s.double("scale") == 2)
    #expect(s.values["scale"] == .float(2))
    #expect(s.string("prefix") == "item")
    #expect(s.strings("tags") == [])
    #expect(s.origins["count"] == "c.toml:2")
    #expect(s.origins["prefix"] == "default")
}

/// `ConfigSection.invalid`: a cross-key refusal names where the value came from (line, override or default).
@Test func aCrossKeyRefusalNamesTheValuesOrigin() throws {
    let doc = try TOMLDocument.parse("[fake-stage.produce]\ncount = 3\n", file: "c.toml")
    let s = try schema.resolve(doc, overrides: ["scale=2"])
    #expect(s.invalid("count", "no") == .invalidValue(file: "c.toml", line: 2, section: "fake-stage.produce", key: "count", message: "no"))
    #expect(s.invalid("scale", "no") == .badOverride(text: "scale=2", message: "no"))
    #expect("\(s.invalid("prefix", "no"))".contains("the schema's default"))
}

@Test func unknownKeyNamesKeyFileAndLineWithSuggestion() throws {
    let doc = try TOMLDocument.parse("[fake-stage.produce]\n\ncoutn = 3\n", file: "c.toml")
    #expect {
        _ = try schema.resolve(doc)
    } throws: { error in
        let text = "\(error)"
        return error as? ConfigError == .unknownKey(file: "c.toml", line: 3, section: "fake-stage.produce", key: "coutn",
                                                     known: ["count", "prefix", "scale", "loud", "tags"])
            && text.contains("c.toml:3") && text.contains("'coutn'") && text.contains("did you mean 'count'")
    }
}

@Test func wrongTypeNamesKeyAndFile() throws {
    let doc = try TOMLDocument.parse("[fake-stage.produce]\ncount = \"three\"\n", file: "c.toml")
    #expect(throws: ConfigError.wrongType(file: "c.toml", line: 2, section: "fake-stage.produce", key: "count",
                                          expected: "an integer", found: "string \"three\"")) {
        try schema.resolve(doc)
    }
    let arr = try TOMLDocument.parse("[fake-stage.produce]\ntags = [\"a\", 1]\n", file: "c.toml")
    #expect(throws: ConfigError.self) { try schema.resolve(arr) }
}

@Test func rangeChecksAndMissingSection() throws {
    let doc = try TOMLDocument.parse("[fake-stage.produce]\ncount = 0\n", file: "c.toml")
    #expect {
        _ = try schema.resolve(doc)
    } throws: { "\($0)".contains("c.toml:2") && "\($0)".contains("outside 1...1000") }
    let empty = try TOMLDocument.parse("[run]\nname = \"x\"\n", file: "e.toml")
    #expect(throws: ConfigError.missingSection(file: "e.toml", section: "fake-stage.produce")) { try schema.resolve(empty) }
    #expect(try schema.resolve(empty, requireSection: false).int("count") == 8)
}

@Test func overridesApplyWithTypeChecks() throws {
    let doc = try TOMLDocument.parse("[fake-stage.produce]\ncount = 3\n", file: "c.toml")
    let s = try schema.resolve(doc, overrides: ["count=5", "prefix=bare", "scale = 0.5", "tags=[\"x\"]"])
    #expect(s.int("count") == 5)
    #expect(s.string("prefix") == "bare")
    #expect(s.double("scale") == 0.5)
    #expect(s.strings("tags") == ["x"])
    #expect(throws: ConfigError.self) { try schema.resolve(doc, overrides: ["count=many"]) }
    #expect(throws: ConfigError.self) { try schema.resolve(doc, overrides: ["nope=1"]) }
    #expect(throws: ConfigError.self) { try schema.resolve(doc, overrides: ["count"]) }
    #expect(throws: ConfigError.self) { try schema.resolve(doc, overrides: ["count=0"]) }
}

@Test func canonicalFormIsSortedNormalisedAndSkipsNonOutputKeys() throws {
    let a = try schema.resolve(TOMLDocument.parse("[fake-stage.produce]\nscale = 1\ncount = 3\nloud = true\n", file: "a"))
    let b = try schema.resolve(TOMLDocument.parse("[fake-stage.produce]\ncount = 3\nscale = 1.000\n", file: "b"))
    #expect(a.canonical == b.canonical)
    #expect(a.canonical == "count = 3\nprefix = \"item\"\nscale = 1.0\ntags = []\n")
    let c = try schema.resolve(TOMLDocument.parse("[fake-stage.produce]\ncount = 4\n", file: "c"))
    #expect(c.canonical != a.canonical)
    #expect(TOMLValue.float(1e-10).canonical == "1e-10")
    #expect(TOMLValue.float(-0.0).canonical == "0.0")
    #expect(TOMLValue.string("a\"\n\u{1}").canonical == "\"a\\\"\\n\\u0001\"")
}

@Test func optInKeyEntersTheFingerprintOnlyAwayFromItsDefault() throws {
    let added = ConfigSchema(section: "fake-stage.produce", keys: schema.keys + [
        ConfigKey("extra", .bool, default: .bool(false), doc: "added later", optIn: true),
    ])
    let old = try schema.resolve(TOMLDocument.parse("[fake-stage.produce]\ncount = 3\n", file: "a"))
    let unset = try added.resolve(TOMLDocument.parse("[fake-stage.produce]\ncount = 3\n", file: "a"))
    let atDefault = try added.resolve(TOMLDocument.parse("[fake-stage.produce]\ncount = 3\nextra = false\n", file: "a"))
    let on = try added.resolve(TOMLDocument.parse("[fake-stage.produce]\ncount = 3\nextra = true\n", file: "a"))
    #expect(unset.canonical == old.canonical)
    #expect(atDefault.canonical == old.canonical)
    #expect(on.canonical == old.canonical.replacingOccurrences(of: "count = 3\n", with: "count = 3\nextra = true\n"))
}

@Test func canonicalValuesParseBackToThemselves() throws {
    let values: [TOMLValue] = [.float(0.1), .float(3), .float(-1e300), .float(.infinity), .integer(-7),
                               .string("tab\t\\ \u{7f}"), .array([.bool(false), .array([.float(2.5)])])]
    for v in values {
        #expect(try TOMLDocument.parseValue(v.canonical, source: "t") == v)
    }
}

@Test func runSectionIsRequiredAndChecked() throws {
    let ok = try RunConfig(TOMLDocument.parse("[run]\nname = \"smoke\"\nseed = 3\n", file: "r"))
    #expect(ok == RunConfig(name: "smoke", seed: 3, threads: 2))
    #expect(throws: ConfigError.missingKey(file: "r", section: "run", key: "name")) {
        try RunConfig(TOMLDocument.parse("[run]\nseed = 3\n", file: "r"))
    }
    #expect(throws: ConfigError.self) { try RunConfig(TOMLDocument.parse("[run]\nname = \"a/b\"\n", file: "r")) }
}

@Test func floatRangeChecksCoercedValuesAndNamesTheBounds() throws {
    let fractions = ConfigSchema(section: "s", keys: [
        .float("share", default: 0.5, doc: "a share", in: 0...1),
        .float("rate", default: nil, doc: "a rate", in: 0.25...2.5),
        .float("free", default: 3, doc: "no range"),
    ])
    let ok = try fractions.resolve(TOMLDocument.parse("[s]\nshare = 1\nrate = 0.25\nfree = -7.5\n", file: "f.toml"))
    #expect(ok.double("share") == 1 && ok.double("rate") == 0.25 && ok.double("free") == -7.5)
    #expect {
        _ = try fractions.resolve(TOMLDocument.parse("[s]\nshare = 1.5\nrate = 1.0\n", file: "f.toml"))
    } throws: { "\($0)".contains("f.toml:2") && "\($0)".contains("1.5 is outside 0...1") }
    #expect {
        _ = try fractions.resolve(TOMLDocument.parse("[s]\nrate = 3\n", file: "f.toml"))
    } throws: { "\($0)".contains("3.0 is outside 0.25...2.5") }
}

/// Typed list keys: the check sees Swift values after the element type is checked; `doubles` reads integers as
/// floats; `texts` gives every key as text (strings bare).
@Test func typedListKeysDoublesAndTexts() throws {
    let lists = ConfigSchema(section: "lists", keys: [
        .strings("names", default: ["a"], doc: "names", check: { $0.count > 2 ? "at most two, got \($0)" : nil }),
        .integers("seeds", default: [1], doc: "seeds", check: { $0.contains { $0 < 0 } ? "negative in \($0)" : nil }),
        ConfigKey("ws", .array(.float), default: .array([.float(0.5)]), doc: "weights"),
    ])
    let s = try lists.resolve(try TOMLDocument.parse("[lists]\nnames = [\"x\", \"y\"]\nws = [0, 2.5]\n", file: "c.toml"))
    #expect(s.strings("names") == ["x", "y"] && s.ints("seeds") == [1] && s.doubles("ws") == [0, 2.5])
    #expect(s.texts == ["names": #"["x", "y"]"#, "seeds": "[1]", "ws": "[0.0, 2.5]"])
    #expect(try schema.resolve(try TOMLDocument.parse("[fake-stage.produce]\nprefix = \"p\"\n", file: "c.toml")).texts["prefix"] == "p")
    #expect(throws: ConfigError.invalidValue(file: "c.toml", line: 2, section: "lists", key: "seeds", message: "negative in [3, -1]")) {
        try lists.resolve(try TOMLDocument.parse("[lists]\nseeds = [3, -1]\n", file: "c.toml"))
    }
    #expect(throws: ConfigError.self) { try lists.resolve(try TOMLDocument.parse("[lists]\nseeds = [\"3\"]\n", file: "c.toml")) }
    let three = #"names=["a", "b", "c"]"#
    #expect(throws: ConfigError.badOverride(text: three, message: #"key 'names' of [lists]: at most two, got ["a", "b", "c"]"#)) {
        try lists.resolve(try TOMLDocument.parse("[lists]\n", file: "c.toml"), overrides: [three])
    }
}

/// `ConfigKey.oneOf(_:refusing:)`: a listed choice passes unless refused (with its reason); anything else lists the choices.
@Test func oneOfRefusesAChoiceThisMachineCannotRun() {
    let plain = ConfigKey.oneOf(["fp32", "bf16"])
    let refusing = ConfigKey.oneOf(["fp32", "bf16"], refusing: ["bf16": "bf16 needs AVX512-BF16"])
    #expect(plain(.string("bf16")) == nil && refusing(.string("fp32")) == nil)
    #expect(refusing(.string("bf16")) == "bf16 needs AVX512-BF16")
    #expect(refusing(.string("fp16")) == "must be one of: fp32, bf16" && plain(.integer(1)) == "must be one of: fp32, bf16")
}
