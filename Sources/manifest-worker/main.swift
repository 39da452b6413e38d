import ArgumentParser
import Foundation
import Manifest
import StageKit

/// manifest-worker: a tiny second process for the Manifest tests (two-process claiming). Claims batches until none
/// are left, completing each item with one artifact record, and prints each completed key on its own line.
struct ManifestWorker: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "manifest-worker",
        abstract: "Claim and complete a stage run's items (a second process for the Manifest tests).",
        discussion: "With MANIFEST_WORKER_GO=<file> in the environment, opens the manifest, then waits (up to 20 s) for "
            + "that file to exist before claiming, so tests can start workers together. MANIFEST_WORKER_WORK_US=<n> sleeps "
            + "n microseconds per item outside any transaction (simulated work; without it a tight loop can starve the "
            + "other process, as SQLite's busy wait is not fair). " + StageExitCode.help(items: false),
        version: BuildSources.version)

    @Argument(help: "The manifest (manifest.sqlite).") var path: String
    @Argument(help: "The stage run whose items to claim.") var stageRun: Int64
    @Argument(help: "The lease owner written into claimed items.") var owner: String
    @Argument(help: "Items per claim.") var batch: Int
    @Argument(help: "Lease in seconds.") var lease: Double
    @Argument(help: "`abandon`: claim one batch and exit without completing it (a crashed worker).") var mode: Mode?

    enum Mode: String, ExpressibleByArgument { case abandon }

    func run() throws {
        try StageMain.command("manifest-worker") {
            let db = try ManifestDB(path: path)
            let env = ProcessInfo.processInfo.environment
            if let go = env["MANIFEST_WORKER_GO"] {
                let deadline = Date().addingTimeInterval(20)
                while !FileManager.default.fileExists(atPath: go) && Date() < deadline { usleep(1000) }
            }
            if mode == .abandon {
                for c in try db.claim(stageRun: stageRun, owner: owner, limit: batch, lease: lease) { print(c.key) }
                return
            }
            let workMicros = UInt32(env["MANIFEST_WORKER_WORK_US"] ?? "") ?? 0
            while case let claims = try db.claim(stageRun: stageRun, owner: owner, limit: batch, lease: lease), !claims.isEmpty {
                for c in claims {
                    if workMicros > 0 { usleep(workMicros) }
                    try db.complete(c, artifacts: [NewArtifact(kind: "txt", relativePath: "artifacts/w/\(c.key).txt",
                                                               sha256: SHA256.hex(c.key), bytes: Int64(c.key.utf8.count))])
                    print(c.key)
                }
            }
        }
    }
}

ManifestWorker.main()
