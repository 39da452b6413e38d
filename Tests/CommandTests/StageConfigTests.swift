import Foundation
import StageKit
import TensorCore
import Testing

/// Every stage's config keys, seen from outside: `--help` lists them from the schema, `inspect config --stage X` prints
/// the effective config, and every shipped pipeline loads in every stage's schema.
@Suite struct StageConfigTests {
    /// Each pipeline stage's command line and config section (as the Makefile's STAGE_CMD_ and `inspect config`).
    static let stages: [(name: String, command: [String], section: String)] = [
        ("pretrain-judge", ["pretrain", "judge"], "pretrain-judge"), ("pretrain-vit", ["pretrain", "vit"], "pretrain-vit"),
        ("pretrain-clip", ["pretrain", "clip"], "pretrain-clip"), ("pretrain-vae", ["pretrain", "vae"], "pretrain-vae"),
        ("pretrain-segmenter", ["pretrain", "segmenter"], "pretrain-segmenter"), ("pretrain-unet", ["pretrain", "unet"], "pretrain-unet"),
        ("pretrain-adapter", ["pretrain", "adapter"], "pretrain-adapter"), ("pretrain-jedi", ["pretrain", "jedi"], "pretrain-jedi"),
        ("pretrain-jedi-sets", ["pretrain", "jedi-sets"], "pretrain-jedi-sets"),
        ("generate-pool", ["generate-pool"], "generate-pool"),
        ("score-and-pair", ["score-and-pair"], "score-and-pair"), ("ssl-finetune-vit", ["ssl-finetune-vit"], "ssl-finetune-vit"),
        ("patch-quality", ["patch-quality"], "patch-quality"), ("dpo-train", ["dpo-train"], "dpo-train"), ("bench", ["bench"], "bench"),
    ]
    static let pipelines = ["default.toml", "paper.toml", "reproduce.toml", "smoke.toml"]

    @Test func theStagesAreThePipelinesSections() {
        #expect(Set(Self.stages.map(\.section) + ["run", "fake-stage.produce", "fake-stage.consume", "fake-stage.tally"])
                == Set(PipelineSections.known))
    }

    /// `X --help` lists every key of X's section (those default.toml sets among them) as `key = default` with its doc.
    @Test func everyStagesHelpListsItsConfigKeys() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let doc = try TOMLDocument.load(repoRoot.appendingPathComponent("pipelines/default.toml"))
        for stage in Self.stages {
            let r = try Tool.run(stage.command[0], Array(stage.command.dropFirst()) + ["--help"], in: dir)
            #expect(r.status == 0, "\(stage.name): \(r.output)")
            #expect(r.output.contains("Config keys of [\(stage.section)]"), "\(stage.name): \(r.output)")
            for key in doc.tables[stage.section]?.entries.keys.sorted() ?? [] {
                #expect(r.output.contains("\n  \(key) = "), "\(stage.name) --help does not list \(key)")
            }
        }
        let pool = try Tool.run("generate-pool", ["--help"], in: dir).output
        #expect(pool.contains("  images_per_prompt = 4\n      generated images per prompt (HG-DPO uses up to 20) (an integer)\n"), "\(pool)")
    }

    /// `inspect config --stage X --config F` for every stage and shipped pipeline: exit 0, `[run]` and the section, every key
    /// of F's section shown with F's line, the others with `default`; nothing is created.
    @Test func inspectConfigPrintsTheEffectiveConfigOfEveryStageForEveryPipeline() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        for file in Self.pipelines {
            let path = repoRoot.appendingPathComponent("pipelines/\(file)").path
            let doc = try TOMLDocument.load(URL(fileURLWithPath: path))
            for stage in Self.stages {
                let r = try Tool.run("inspect", ["config", "--stage", stage.name, "--config", path], in: dir)
                #expect(r.status == 0, "\(stage.name) with \(file): \(r.output)")
                #expect(r.output.contains("[run]\nname = ") && r.output.contains("\n[\(stage.section)]\n"), "\(r.output)")
                let shown = Dictionary(r.output.split(separator: "\n").compactMap { line -> (String, String)? in
                    guard let eq = line.range(of: " = "), let hash = line.range(of: "# ", options: .backwards) else { return nil }
                    return (String(line[..<eq.lowerBound]), String(line[hash.upperBound...]))
                }, uniquingKeysWith: { _, section in section })     // a key in both [run] and the section: the section's
                for (key, entry) in doc.tables[stage.section]?.entries ?? [:] {
                    #expect(shown[key] == "\(path):\(entry.line)", "\(stage.name) with \(file): \(key)")
                }
            }
        }
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("runs").path))   // no run directory made
        let over = try Tool.run("inspect", ["config", "--stage", "generate-pool", "--config",
                                            repoRoot.appendingPathComponent("pipelines/smoke.toml").path, "--set", "steps=3"], in: dir)
        #expect(over.status == 0 && over.output.contains("# override steps=3"), "\(over.output)")
        let unknown = try Tool.run("inspect", ["config", "--stage", "generate-pol"], in: dir)
        #expect(unknown.status == 64 && unknown.output.contains("unknown stage 'generate-pol'"), "\(unknown.output)")
    }

    /// `precision` (every training stage): fp32 or bf16, anything else stops the stage (65) naming the key and the choices;
    /// bf16 is taken where this CPU has AVX512-BF16 and refused with the reason elsewhere.
    @Test(arguments: ["pretrain-adapter", "pretrain-unet", "dpo-train"])
    func theTrainingPrecisionIsCheckedBeforeAStageRuns(_ stage: String) throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let smoke = repoRoot.appendingPathComponent("pipelines/smoke.toml").path
        let bad = try Tool.run("inspect", ["config", "--stage", stage, "--config", smoke, "--set", "precision=\"fp16\""], in: dir)
        #expect(bad.status == 65 && bad.output.contains("key 'precision' of [\(stage)]: must be one of: fp32, bf16"), "\(bad.output)")
        let bf16 = try Tool.run("inspect", ["config", "--stage", stage, "--config", smoke, "--set", "precision=\"bf16\""], in: dir)
        if GEMMPrecision.bf16Available {
            #expect(bf16.status == 0 && bf16.output.contains("precision = \"bf16\""), "\(bf16.output)")
        } else {
            #expect(bf16.status == 65 && bf16.output.contains("bf16 needs a CPU with AVX512-BF16"), "\(bf16.output)")
        }
    }

    /// A config of the old key style stops the stage (65) naming the new key, in the file and in `--set`; `inspect
    /// config` reports the same.
    @Test func anOldKeySpellingStopsTheStageNamingTheNewKey() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = dir.appendingPathComponent("old.toml")
        try "[run]\nname = \"t\"\n\n[ssl-finetune-vit]\nepochs = 1\nbatch-size = 4\n\n[patch-quality]\n".write(to: config, atomically: true, encoding: .utf8)
        let run = try Tool.run("ssl-finetune-vit", ["--config", config.path, "--run-dir", dir.appendingPathComponent("run").path], in: dir)
        #expect(run.status == 65 && run.output.contains("\(config.path):6: key 'batch-size' in [ssl-finetune-vit] is now 'batch_size'"),
                "\(run.output)")
        let shown = try Tool.run("inspect", ["config", "--stage", "ssl-finetune-vit", "--config", config.path], in: dir)
        #expect(shown.status == 65 && shown.output.contains("is now 'batch_size'"), "\(shown.output)")
        let set = try Tool.run("inspect", ["config", "--stage", "patch-quality", "--config", config.path, "--set", "fg-generated=none"], in: dir)
        #expect(set.status == 65 && set.output.contains("key 'fg-generated' of [patch-quality] is now 'fg_generated'"), "\(set.output)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("run").path))
    }
}
