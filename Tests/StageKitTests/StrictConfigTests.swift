import Foundation
import Testing
@testable import StageKit

/// Config mistakes that used to be accepted silently: a misspelt section (never read, so its stage ran
/// on defaults), keys before any section, non-finite floats.
@Suite struct StrictConfigTests {
    private static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test func misspeltSectionIsAnErrorWithASuggestion() throws {
        let doc = try TOMLDocument.parse("[run]\nname = \"t\"\n\n[generate-pol]\nguidance = 3.0\n", file: "p.toml")
        #expect(throws: ConfigError.unknownSection(file: "p.toml", line: 4, section: "generate-pol", known: PipelineSections.known)) {
            try PipelineSections.check(doc)
        }
        let text = "\(ConfigError.unknownSection(file: "p.toml", line: 4, section: "generate-pol", known: PipelineSections.known))"
        #expect(text == "p.toml:4: unknown section [generate-pol], which no stage reads; hint: did you mean [generate-pool]?")
        let far = "\(ConfigError.unknownSection(file: "p.toml", line: 2, section: "zzz", known: ["run", "bench"]))"
        #expect(far.hasSuffix("hint: known sections: run, bench"))
        // The first unknown section in file order is the one reported.
        let two = try TOMLDocument.parse("[run]\n[pretrain.vit]\n[dpo_train]\n", file: "q.toml")
        #expect { try PipelineSections.check(two) } throws: { "\($0)".contains("q.toml:2") && "\($0)".contains("did you mean [pretrain-vit]?") }
    }

    @Test func aStagesOwnSectionIsKnownToIt() throws {
        let doc = try TOMLDocument.parse("[run]\nname = \"t\"\n[toy-train]\nsteps = 3\n", file: "t.toml")
        #expect(throws: ConfigError.self) { try PipelineSections.check(doc) }
        try PipelineSections.check(doc, alsoKnown: ["toy-train"])
    }

    @Test func keysBeforeTheFirstSectionAreAnError() throws {
        let doc = try TOMLDocument.parse("# pipeline\nseed = 3\n[run]\nname = \"t\"\n", file: "k.toml")
        #expect(throws: ConfigError.keyOutsideSection(file: "k.toml", line: 2, key: "seed")) { try PipelineSections.check(doc) }
    }

    /// Every shipped pipeline still loads: all its sections are known and its [run] resolves.
    @Test func everyPipelineConfigLoads() throws {
        let dir = Self.repo.appendingPathComponent("pipelines")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".toml") }.sorted()
        #expect(files == ["default.toml", "jedi.toml", "paper.toml", "reproduce.toml", "smoke.toml"])
        for f in files {
            let doc = try TOMLDocument.load(dir.appendingPathComponent(f))
            try PipelineSections.check(doc)
            _ = try RunConfig(doc)
            #expect(Set(doc.tables.keys.filter { !$0.isEmpty }) == Set(PipelineSections.known), "\(f)")
        }
    }

    /// jedi.toml is default.toml with JeDi as the base: it differs only in [run], the base of [generate-pool] and
    /// [dpo-train], [dpo-train]'s losses and trained weights, and [bench]'s subjects and frontier.
    @Test func theJeDiConfigDiffersFromTheDefaultOnlyWhereItSays() throws {
        let dir = Self.repo.appendingPathComponent("pipelines")
        let d = try TOMLDocument.load(dir.appendingPathComponent("default.toml"))
        let j = try TOMLDocument.load(dir.appendingPathComponent("jedi.toml"))
        #expect(Set(d.tables.keys) == Set(j.tables.keys))
        let allowed: [String: Set<String>] = ["run": ["name"], "generate-pool": ["base"], "dpo-train": ["losses", "base", "jedi_trainable"],
                                              "bench": ["subjects", "frontier_wrg"]]
        for (name, table) in d.tables {
            let a = table.entries.mapValues(\.value), b = j.tables[name]?.entries.mapValues(\.value) ?? [:]
            let differing = Set(a.keys).union(b.keys).filter { a[$0] != b[$0] }
            #expect(differing.isSubset(of: allowed[name] ?? []), "[\(name)] differs between default.toml and jedi.toml in \(differing.sorted())")
        }
        #expect(j.tables["generate-pool"]?.entries["base"]?.value == .string("jedi") && j.tables["dpo-train"]?.entries["base"]?.value == .string("jedi"))
    }

    /// `make reproduce`'s config is default.toml at evidence scale: its header says only [run], [dpo-train] and [bench]
    /// differ, so every other section must hold the same values (a change to default.toml must reach it too).
    @Test func theReproductionConfigDiffersFromTheDefaultOnlyWhereItSays() throws {
        let dir = Self.repo.appendingPathComponent("pipelines")
        let d = try TOMLDocument.load(dir.appendingPathComponent("default.toml"))
        let r = try TOMLDocument.load(dir.appendingPathComponent("reproduce.toml"))
        #expect(Set(d.tables.keys) == Set(r.tables.keys))
        for (name, table) in d.tables where !["run", "dpo-train", "bench"].contains(name) {
            let a = table.entries.mapValues(\.value), b = r.tables[name]?.entries.mapValues(\.value)
            #expect(a == b, "[\(name)] differs between default.toml and reproduce.toml")
        }
        #expect(r.tables["dpo-train"]?.entries["seeds"]?.value == .array([.integer(1), .integer(2), .integer(3)]))
        #expect(r.tables["bench"]?.entries["subjects"]?.value == .integer(104))
    }

    @Test func nonFiniteFloatsAreRefusedNamingKeyAndSection() throws {
        let schema = ConfigSchema(section: "generate-pool", keys: [
            ConfigKey("guidance", .float, default: .float(5), doc: "w"),
            ConfigKey("weights", .array(.float), default: .array([]), doc: "ws"),
        ])
        for (text, shown) in [("guidance = inf", "inf"), ("guidance = nan", "nan"), ("guidance = -inf", "-inf"),
                              ("weights = [1.0, nan]", "nan")] {
            let doc = try TOMLDocument.parse("[generate-pool]\n\(text)\n", file: "g.toml")
            #expect {
                _ = try schema.resolve(doc)
            } throws: { error in
                guard case let .invalidValue(file, line, section, key, message) = error as? ConfigError else { return false }
                return file == "g.toml" && line == 2 && section == "generate-pool" && text.hasPrefix(key)
                    && message.hasPrefix("\(shown) is not a finite number")
            }
        }
        let ok = try TOMLDocument.parse("[generate-pool]\nguidance = 1e300\nweights = [0, -2.5]\n", file: "g.toml")
        #expect(try schema.resolve(ok).double("guidance") == 1e300)
        #expect {
            _ = try schema.resolve(ok, overrides: ["guidance=nan"])
        } throws: { "\($0)".contains("override 'guidance=nan'") && "\($0)".contains("[generate-pool]") && "\($0)".contains("not a finite number") }
    }

    /// Through a real stage process: a misspelt section stops the stage (65) before anything is created.
    @Test func aStageRefusesAConfigWithAMisspeltSection() throws {
        let box = try Sandbox(count: 2)
        let text = try String(contentsOf: box.config, encoding: .utf8) + "\n[fake-stage.produse]\ncount = 3\n"
        try text.write(to: box.config, atomically: true, encoding: .utf8)
        let r = try box.run("produce")
        #expect(r.status == 65, "\(r.stderr)")
        #expect(r.stderr.contains("unknown section [fake-stage.produse]") && r.stderr.contains("did you mean [fake-stage.produce]?"),
                "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: box.runDir.path))
    }
}
