import ArgumentParser
import Foundation
import Manifest
import StageKit

/// `inspect`: read-only views of a run directory's manifest (opened with `SQLITE_OPEN_READONLY`).
struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show a run's manifest (stage status, lineage, metrics, integrity), safetensors headers, a stage's effective config.",
        discussion: "Reads the manifest read-only: never creates, migrates or writes it. Exit codes: 0 ok, 64 usage, "
            + "65 verification failed, an empty (0-byte), corrupt, newer or older manifest, or a bad config, 66 missing manifest/file.",
        version: BuildSources.version,
        subcommands: [Status.self, Plan.self, LineageCommand.self, Metrics.self, Verify.self, SafeTensorsCommand.self,
                      ConfigCommand.self])
}

/// The run directory option shared by the manifest subcommands.
struct RunDirOption: ParsableArguments {
    @Option(help: "Run directory holding manifest.sqlite.") var runDir = "runs/default"
    var url: URL { URL(fileURLWithPath: runDir, isDirectory: true) }
}

/// Runs `body`, printing errors as one line and exiting with the shared exit-code table.
func guarded(_ body: () throws -> Void) throws { try StageMain.command("inspect", body) }

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Each stage's newest run: fingerprint, state, items, time.")
    @OptionGroup var dir: RunDirOption
    func run() throws { try guarded { print(try ManifestReport.status(ManifestReport.open(runDirectory: dir.url)), terminator: "") } }
}

struct Plan: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "What would rerun as far as the manifest can tell: stages stale with their upstream, unfinished runs.")
    @OptionGroup var dir: RunDirOption
    func run() throws { try guarded { print(try ManifestReport.plan(ManifestReport.open(runDirectory: dir.url)), terminator: "") } }
}

struct LineageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lineage", abstract: "Where an artifact came from: every upstream stage run and artifact, each once.",
        discussion: "Text: one section per stage run (level 0 = the artifact's producer), the artifacts of the lineage it "
            + "made (\(LineageReport.collapseAt) or more of one kind on one line) and what it read, counted by kind per "
            + "upstream stage run. --format dot writes a Graphviz graph: inspect lineage --format dot PATH | dot -Tsvg > lineage.svg")
    @OptionGroup var dir: RunDirOption
    @Option(help: "Follow at most this many levels of reads (0: the producer alone; default: all).") var depth: Int?
    @Option(help: "text or dot (Graphviz).") var format: LineageReport.Format = .text
    @Argument(help: "Artifact path relative to the run directory.") var path: String

    func validate() throws {
        if let d = depth, d < 0 { throw ValidationError("--depth must be >= 0, got \(d)") }
    }

    func run() throws {
        try guarded {
            print(try ManifestReport.lineage(ManifestReport.open(runDirectory: dir.url), path: path, depth: depth, format: format),
                  terminator: "")
        }
    }
}

extension LineageReport.Format: ExpressibleByArgument {}

struct Metrics: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Recorded metrics (stage, stage run, name, step, value).")
    @OptionGroup var dir: RunDirOption
    @Option(help: "Only this stage's metrics.") var stage: String?
    func run() throws {
        try guarded { print(try ManifestReport.metrics(ManifestReport.open(runDirectory: dir.url), stage: stage), terminator: "") }
    }
}

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check every recorded file exists with its size and SHA-256; list the bad ones (exit 65).")
    @OptionGroup var dir: RunDirOption
    func run() throws {
        try guarded {
            let db = try ManifestReport.open(runDirectory: dir.url)
            let problems = try db.verify(runDirectory: dir.url)
            for p in problems { print(p) }
            let total = try db.currentArtifacts().count
            if !problems.isEmpty {
                FileHandle.standardError.write(Data("inspect: \(problems.count) of \(total) artifact(s) failed verification\n".utf8))
                throw ExitCode(StageExitCode.dataError.rawValue)
            }
            print("verify: \(total) artifact(s) ok")
        }
    }
}
Inspect.main()
