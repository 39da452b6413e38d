import ArgumentParser
import Foundation
import StageKit

/// `inspect config --stage X [--config F] [--set key=value]`: stage X's effective config, `[run]` and its section with
/// every key (defaults merged with the file and the overrides) and where each value came from. The schema lives in the
/// stage's own executable, so this runs it (`X --show-config`, beside this executable), which reads the config exactly
/// as a run would and creates nothing; its errors and exit codes are the stage's (65 for a bad config).
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "A stage's effective config: every key of [run] and its section, with the file line, override or default it came from.",
        discussion: "Stages: " + stages.keys.sorted().joined(separator: ", ") + ".")

    /// The command line of each stage's executable (as the Makefile's STAGE_CMD_ table).
    static let stages: [String: [String]] = [
        "pretrain-judge": ["pretrain", "judge"], "pretrain-vit": ["pretrain", "vit"], "pretrain-clip": ["pretrain", "clip"],
        "pretrain-vae": ["pretrain", "vae"], "pretrain-segmenter": ["pretrain", "segmenter"], "pretrain-unet": ["pretrain", "unet"],
        "pretrain-adapter": ["pretrain", "adapter"], "pretrain-jedi": ["pretrain", "jedi"], "pretrain-jedi-sets": ["pretrain", "jedi-sets"],
        "generate-pool": ["generate-pool"], "score-and-pair": ["score-and-pair"], "ssl-finetune-vit": ["ssl-finetune-vit"],
        "patch-quality": ["patch-quality"], "dpo-train": ["dpo-train"], "bench": ["bench"],
        "fake-produce": ["fake-stage", "produce"], "fake-consume": ["fake-stage", "consume"], "fake-tally": ["fake-stage", "tally"],
    ]

    @Option(help: "The stage (generate-pool, pretrain-vit, ...).") var stage: String
    @Option(help: "Pipeline config.") var config = "pipelines/default.toml"
    @Option(name: .customLong("set"), help: "Override a key of the stage's section (key=value; repeatable).") var overrides: [String] = []

    func validate() throws {
        guard Self.stages[stage] != nil else {
            throw ValidationError("unknown stage '\(stage)'; stages: " + Self.stages.keys.sorted().joined(separator: ", "))
        }
    }

    func run() throws {
        try guarded {
            let command = Self.stages[stage]!
            let dir = (Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])).deletingLastPathComponent()
            let tool = dir.appendingPathComponent(command[0])
            guard FileManager.default.isExecutableFile(atPath: tool.path) else {
                throw StageError.missingFile(path: tool.path, hint: "build it (swift build --product \(command[0]))")
            }
            let p = Process()
            p.executableURL = tool
            p.arguments = Array(command.dropFirst()) + ["--show-config", "--config", config] + overrides.flatMap { ["--set", $0] }
            try p.run()
            p.waitUntilExit()
            if p.terminationStatus != 0 { throw ExitCode(p.terminationStatus) }
        }
    }
}
