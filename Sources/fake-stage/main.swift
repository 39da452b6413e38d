import ArgumentParser

/// A tiny per-item stage pair for testing the pipeline machinery: `produce` writes one small file per
/// key, `consume` reads each produced file and writes a derived one (so downstream reruns show).
struct FakeStage: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fake-stage",
        abstract: "A tiny three-stage pipeline (produce -> consume -> tally) that exercises StageKit.",
        discussion: "Exit codes: 0 ok, 1 items failed, 64 usage, 65 data error, 66 missing input, "
            + "70 internal, 74 I/O, 75 busy, 130 interrupted.",
        subcommands: [Produce.self, Consume.self, Tally.self])
}

FakeStage.main()
