import Foundation
import Manifest
import Testing
import TestSupport
@testable import StageKit

/// Issue 20 item 6: hints name the commands that fix the problem, and a run directory refuses another pipeline's config.
struct CommandLineTests {
    /// Every declared upstream that never ran is named, each as the command that runs it (`pretrain unet`, not
    /// "the pretrain-unet executable"); one that ran is not.
    @Test func aMissingUpstreamNamesEveryOneAsItsCommand() throws {
        let box = try Sandbox(count: 2)
        #expect(try box.run("produce").status == 0)
        let config = box.dir.appendingPathComponent("reader.toml")
        try "[run]\nname = \"test\"\n[toy-read]\n".write(to: config, atomically: true, encoding: .utf8)
        let definition = StageDefinition(name: "toy-read", schema: ConfigSchema(section: "toy-read", keys: []), sourceFingerprint: "toy-1",
                                          upstream: ["pretrain-clip", "fake-produce", "generate-pool", "pretrain-unet"])
        let r = try StageRunner(definition, options: try CommonOptions.parse(["--config", config.path, "--run-dir", box.runDir.path]),
                                log: Log(stage: "toy-read", level: .error, sink: { _ in }))
        #expect(try r.upstreamOutputs("fake-produce").count == 2)
        let e = #expect(throws: StageError.self) { try r.allUpstreamOutputs() }
        #expect(e == .upstreamMissing(stage: "toy-read", upstreams: ["pretrain-clip", "generate-pool", "pretrain-unet"]))
        let text = e.map { "\($0)" } ?? ""
        #expect(text.contains("no run of upstream stages 'pretrain-clip', 'generate-pool', 'pretrain-unet' in this run directory"), "\(text)")
        #expect(text.contains("hint: run `pretrain clip`, `generate-pool` and `pretrain unet` first"), "\(text)")
        #expect(!text.contains("executable"))
        #expect(e.map(StageExitCode.of) == .noInput)
        // An upstream read outside the declared list (an optional model) is named first.
        #expect(throws: StageError.upstreamMissing(stage: "toy-read", upstreams: ["pretrain-segmenter", "pretrain-clip", "generate-pool",
                                                                                  "pretrain-unet"])) {
            try r.upstreamOutputs("pretrain-segmenter")
        }
        #expect(StageCommand.of("fake-consume") == "fake-stage consume" && StageCommand.of("bench") == "bench")
    }

    /// A stage given the config of run 'other' against run 'test''s directory stops with a usage error (64) naming
    /// both names and both paths, before it records anything.
    @Test func aConfigOfAnotherRunNameIsRefused() throws {
        let box = try Sandbox(count: 2)
        #expect(try box.run("produce").status == 0)
        let other = box.dir.appendingPathComponent("other.toml")
        try String(contentsOf: box.config, encoding: .utf8).replacingOccurrences(of: "name = \"test\"", with: "name = \"other\"")
            .write(to: other, atomically: true, encoding: .utf8)
        let db = try ManifestDB(path: box.runDir.appendingPathComponent("manifest.sqlite").path, mode: .readOnly)
        let before = (try db.runs().count, try db.stageRuns(stage: nil).count)
        for extra in [[], ["--force"]] {
            let p = try Spawned(Tool.url("fake-stage"), ["produce", "--config", other.path, "--run-dir", box.runDir.path] + extra, in: box.dir)
            #expect(p.wait() == 64, "\(p.stderr)")
            #expect(p.stderr.contains("fake-produce error: --config \(other.path) is run 'other' but the run directory ")
                    && p.stderr.contains(" holds run 'test'; hint: "), "\(p.stderr)")
        }
        #expect((try db.runs().count, try db.stageRuns(stage: nil).count) == before)
        // The run's own config still runs there (up to date).
        #expect(try box.run("produce").status == 0)
    }

    /// `--version` prints the package version and the code version a stage records in the manifest.
    @Test func versionNamesTheCodeVersionTheStageRecords() throws {
        let box = try Sandbox(count: 1)
        #expect(try box.run("produce").status == 0)
        let p = try Spawned(Tool.url("fake-stage"), ["--version"], in: box.dir)
        #expect(p.wait() == 0)
        let recorded = try ManifestDB(path: box.runDir.appendingPathComponent("manifest.sqlite").path, mode: .readOnly).runs()
        try #require(recorded.count == 1)
        #expect(p.stdout.hasPrefix("PatchDPO ") && p.stdout.hasSuffix(" (code \(recorded[0].codeVersion))\n"), "\(p.stdout)")
    }
}
