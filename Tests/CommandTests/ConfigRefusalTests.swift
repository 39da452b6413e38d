import Foundation
import Testing

/// Values the stages used to accept silently are refused when the config is read (exit 65, naming the
/// file, key and section), before any run directory is created.
@Suite struct ConfigRefusalTests {
    private func run(_ stage: String, section: String, _ body: String, args: [String] = []) throws -> (status: Int32, output: String, created: Bool) {
        let dir = try tempDir(stage)
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = dir.appendingPathComponent("c.toml")
        try "[run]\nname = \"t\"\n\n[\(section)]\n\(body)\n".write(to: config, atomically: true, encoding: .utf8)
        let runDir = dir.appendingPathComponent("run")
        let r = try Tool.run(stage, ["--config", config.path, "--run-dir", runDir.path] + args, in: dir)
        return (r.status, r.output, FileManager.default.fileExists(atPath: runDir.path))
    }

    @Test func nonFiniteGuidanceAndWeightsAreRefused() throws {
        let g = try run("generate-pool", section: "generate-pool", "guidance = inf")
        #expect(g.status == 65 && g.output.contains("c.toml:5: key 'guidance' in [generate-pool]: inf is not a finite number"), "\(g)")
        #expect(!g.created)
        let o = try run("generate-pool", section: "generate-pool", "", args: ["--set", "guidance=nan"])
        #expect(o.status == 65 && o.output.contains("override 'guidance=nan'") && o.output.contains("not a finite number"), "\(o)")
        let s = try run("score-and-pair", section: "score-and-pair", "w_vit_cls = nan")
        #expect(s.status == 65 && s.output.contains("key 'w_vit_cls' in [score-and-pair]: nan is not a finite number"), "\(s)")
    }

    @Test func emptyOrRepeatedLossListIsRefused() throws {
        let e = try run("dpo-train", section: "dpo-train", "losses = []")
        #expect(e.status == 65 && e.output.contains("key 'losses' in [dpo-train]: must list at least one loss"), "\(e)")
        #expect(!e.created)
        let d = try run("dpo-train", section: "dpo-train", "losses = [\"dm\", \"dm\"]")
        #expect(d.status == 65 && d.output.contains("lists a loss twice"), "\(d)")
    }

    @Test func unknownSchedulerIsRefusedNamingTheKey() throws {
        let g = try run("generate-pool", section: "generate-pool", "scheduler = \"dpm++\"")
        #expect(g.status == 65 && g.output.contains("c.toml:5: key 'scheduler' in [generate-pool]: must be one of: ddim, dpmpp-2m"), "\(g)")
        #expect(!g.created)
        let b = try run("bench", section: "bench", "", args: ["--set", "scheduler=ddpm"])
        #expect(b.status == 65 && b.output.contains("key 'scheduler' of [bench]: must be one of: ddim, dpmpp-2m"), "\(b)")
    }

    @Test func misspeltSectionIsRefusedByARealStage() throws {
        let r = try run("generate-pool", section: "generate-pol", "guidance = 3.0")
        #expect(r.status == 65 && r.output.contains("c.toml:4: unknown section [generate-pol]")
                && r.output.contains("did you mean [generate-pool]?"), "\(r)")
        #expect(!r.created)
    }
}
