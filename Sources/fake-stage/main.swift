import ArgumentParser
import StageKit

/// A tiny per-item stage pair for testing the pipeline machinery: `produce` writes one small file per
/// key, `consume` reads each produced file and writes a derived one (so downstream reruns show).
struct FakeStage: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fake-stage",
        abstract: "A tiny three-stage pipeline (produce -> consume -> tally) that exercises StageKit.",
        discussion: StageExitCode.help(),
        version: BuildSources.version,
        subcommands: [Produce.self, Consume.self, Tally.self])
}

FakeStage.main()
