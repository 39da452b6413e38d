import Foundation
import Testing
import TestSupport

/// Issue 20 item 6: every executable parses its command line with swift-argument-parser, so `--help` and `--version`
/// answer without doing any work (`perf-bench --help` used to start the benchmarks), and scripts/refresh runs every
/// stage of the pipeline.
@Suite struct ExecutableHelpTests {
    /// Every executable of the package (fuzz-parsers, built only with PATCHDPO_FUZZ under libFuzzer's own main, aside).
    static let executables = ["bench", "code-fingerprint", "dpo-train", "fake-stage", "generate-pool", "inspect", "manifest-worker",
                              "patch-quality", "perf-bench", "pretrain", "render-report", "sample", "score-and-pair",
                              "ssl-finetune-vit", "st-interop", "vit-probe", "worldgen"]

    /// The list is the package's: every lower-case folder of Sources/ is an executable target.
    @Test func theListIsEveryExecutable() throws {
        let folders = try FileManager.default.contentsOfDirectory(atPath: repoRoot.appendingPathComponent("Sources").path)
            .filter { $0.first!.isLowercase && $0 != "fuzz-parsers" }.sorted()
        #expect(folders == Self.executables)
    }

    @Test(arguments: executables) func helpAndVersionDoNoWork(_ name: String) throws {
        let dir = try tempDir(name)
        defer { try? FileManager.default.removeItem(at: dir) }
        let help = try Tool.run(name, ["--help"], in: dir)
        #expect(help.status == 0, "\(help.output)")
        #expect(help.output.hasPrefix("OVERVIEW: ") && help.output.contains("USAGE: \(name)") && help.output.contains("--version"),
                "\(help.output)")
        #expect(!help.output.contains("{\"bench\""), "\(name) --help ran something:\n\(help.output)")
        let version = try Tool.run(name, ["--version"], in: dir)
        #expect(version.status == 0, "\(version.output)")
        let shape = name == "code-fingerprint" ? #/PatchDPO [0-9]+\.[0-9]+\.[0-9]+ \(the fingerprinting tool: no code version of its own\)\n/#
                                               : #/PatchDPO [0-9]+\.[0-9]+\.[0-9]+ \(code src\.[0-9a-f]{12}\)\n/#
        #expect(version.output.wholeMatch(of: shape) != nil, "\(version.output)")
        // Nothing but the two logs of the spawns (no runs/, no output files).
        let left = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        #expect(left.count == 2 && left.allSatisfy { $0.hasSuffix(".log") }, "\(left)")
    }

    /// `--shard` is offered in the help of the stages that split their items and no other (issue 18): a whole stage
    /// refuses it (exit 64), so advertising it there was a trap.
    @Test func onlyShardableStagesOfferShard() throws {
        let dir = try tempDir("shard-help")
        defer { try? FileManager.default.removeItem(at: dir) }
        for (name, args, offers) in [("generate-pool", [String](), true), ("patch-quality", [], true), ("bench", [], true),
                                     ("score-and-pair", [], false), ("dpo-train", [], true), ("ssl-finetune-vit", [], false),
                                     ("pretrain", ["unet"], false), ("pretrain", ["jedi"], false),
                                     ("pretrain", ["jedi-sets"], true)] {
            let help = try Tool.run(name, args + ["--help"], in: dir)
            #expect(help.status == 0, "\(help.output)")
            #expect(help.output.contains("--shard k/N") == offers, "\(name) \(args): \(help.output)")
        }
    }

    /// scripts/refresh with no STAGES runs the pipeline's every stage in order (it used to stop before bench on a fresh
    /// run directory: pretrain-segmenter, which score-and-pair reads, was missing from its own list), here against
    /// stand-in executables that log their command lines.
    @Test func refreshRunsEveryPipelineStage() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let bin = dir.appendingPathComponent("bin"), log = dir.appendingPathComponent("calls.log")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        for name in ["pretrain", "generate-pool", "score-and-pair", "ssl-finetune-vit", "patch-quality", "dpo-train", "bench"] {
            let url = bin.appendingPathComponent(name)
            try "#!/bin/sh\necho \"$(basename \"$0\") $*\" >> '\(log.path)'\n".write(to: url, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path)
        }
        let run = dir.appendingPathComponent("run").path
        let p = try Spawned(repoRoot.appendingPathComponent("scripts/refresh"), [], in: dir,
                            environment: ["BIN": bin.path, "CONFIG": "pipelines/smoke.toml", "RUN_DIR": run, "STAGES": ""])
        #expect(p.wait() == 0, "\(p.stdout)\(p.stderr)")
        let calls = (try? String(contentsOf: log, encoding: .utf8))?.split(separator: "\n").map(String.init) ?? []
        let stages = ["pretrain judge", "pretrain vit", "pretrain segmenter", "pretrain clip", "pretrain unet", "pretrain adapter", "pretrain jedi",
                      "generate-pool", "score-and-pair", "ssl-finetune-vit", "patch-quality", "dpo-train", "bench"]
        #expect(calls == stages.map { "\($0) --config pipelines/smoke.toml --run-dir \(run)" }, "\(calls)")
    }
}
