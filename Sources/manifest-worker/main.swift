// manifest-worker: a tiny second process for the Manifest tests (two-process claiming).
// Usage: manifest-worker <manifest path> <stage run id> <owner> <batch> <lease seconds> [abandon]
// Claims batches until none are left, completing each item with one artifact record, and prints
// each completed key on its own line. With `abandon`, claims one batch and exits without completing
// (a crashed worker). With MANIFEST_WORKER_GO=<file> in the environment, opens the manifest, then
// waits (up to 20 s) for that file to exist before claiming, so tests can start workers together.
// MANIFEST_WORKER_WORK_US=<n> sleeps n microseconds per item outside any transaction (simulated
// work; without it a tight loop can starve the other process, as SQLite's busy wait is not fair).
// Exit codes by the shared table (StageExitCode): 0 ok, 64 bad usage, else the error's code with the error on stderr.
import Foundation
import Manifest
import StageKit

let args = CommandLine.arguments
guard args.count >= 6, let stageRun = Int64(args[2]), let batch = Int(args[4]), let lease = Double(args[5]) else {
    FileHandle.standardError.write(Data("usage: manifest-worker <path> <stage run> <owner> <batch> <lease> [abandon]\n".utf8))
    exit(StageExitCode.usage.rawValue)
}
do {
    let db = try ManifestDB(path: args[1])
    if let go = ProcessInfo.processInfo.environment["MANIFEST_WORKER_GO"] {
        let deadline = Date().addingTimeInterval(20)
        while !FileManager.default.fileExists(atPath: go) && Date() < deadline { usleep(1000) }
    }
    if args.count > 6 && args[6] == "abandon" {
        for c in try db.claim(stageRun: stageRun, owner: args[3], limit: batch, lease: lease) { print(c.key) }
        exit(0)
    }
    let workMicros = UInt32(ProcessInfo.processInfo.environment["MANIFEST_WORKER_WORK_US"] ?? "") ?? 0
    while true {
        let claims = try db.claim(stageRun: stageRun, owner: args[3], limit: batch, lease: lease)
        if claims.isEmpty { break }
        for c in claims {
            if workMicros > 0 { usleep(workMicros) }
            try db.complete(c, artifacts: [NewArtifact(kind: "txt", relativePath: "artifacts/w/\(c.key).txt",
                                                       sha256: SHA256.hex(c.key), bytes: Int64(c.key.utf8.count))])
            print(c.key)
        }
    }
} catch {
    FileHandle.standardError.write(Data("manifest-worker: \(error)\n".utf8))
    exit(StageExitCode.of(error).rawValue)
}
