import Foundation
import Manifest

/// Plain-text views of a manifest for the `inspect` command (tab-separated tables with a header
/// line, so they read well and `cut`/`awk` apart easily).
public enum ManifestReport {
    /// Opens an existing manifest read-only (`SQLITE_OPEN_READONLY`): never creates, migrates or writes it.
    /// Throws `StageError.missingFile` when absent (exit 66), `ManifestError.corrupt` when it is empty
    /// (0 bytes) or damaged (exit 65), `.newerSchema` / `.olderSchema` when this build cannot read it as is (65).
    public static func open(runDirectory: URL) throws -> ManifestDB {
        let path = RunLayout(root: runDirectory).manifest.path
        guard FileManager.default.fileExists(atPath: path) else {
            throw StageError.missingFile(path: path, hint: "pass the run directory with --run-dir (e.g. runs/smoke), or run a stage first")
        }
        return try ManifestDB(path: path, mode: .readOnly)
    }

    /// One line per stage (its newest stage run): stage, run id, status, fingerprint prefix,
    /// items done/failed/total, start time (UTC), duration.
    public static func status(_ db: ManifestDB) throws -> String {
        var newest: [String: StageRunRecord] = [:]
        var order: [String] = []
        for r in try db.stageRuns(stage: nil).reversed() {     // oldest first, so order = first appearance
            if newest[r.stage] == nil { order.append(r.stage) }
            newest[r.stage] = r
        }
        var lines = ["stage\tstage_run\tstatus\tfingerprint\tdone\tfailed\ttotal\tstarted\ttime\terror"]
        for stage in order {
            let r = newest[stage]!
            let c = try db.counts(stageRun: r.id)
            let started = r.started.map(timestamp) ?? "-"
            let time = r.started.map { ProgressReporter.duration((r.finished ?? Date().timeIntervalSince1970) - $0) } ?? "-"
            var status = r.status.rawValue
            if r.status == .done, case let stale = try db.staleness(stageRun: r.id), !stale.isEmpty {
                status = "stale (" + stale.map { "upstream \($0.upstream) changed" }.joined(separator: ", ") + ")"
            }
            lines.append("\(stage)\t\(r.id)\t\(status)\t\(r.fingerprint.prefix(12))\t\(c.done)\t\(c.failed)\t"
                         + "\(c.total)\t\(started)\t\(time)\t\(r.error ?? "")")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// What the manifest alone says would run: per stage (in first-run order), its newest stage run and either
    /// "rerun: upstream X changed: ..." (`ManifestDB.staleness`), "resume: <status>" for an unfinished run, or
    /// "up to date with its upstream". Config and code changes need the stage's own config: `<stage> --dry-run`.
    public static func plan(_ db: ManifestDB) throws -> String {
        var newest: [String: StageRunRecord] = [:]
        var order: [String] = []
        for r in try db.stageRuns(stage: nil).reversed() {
            if newest[r.stage] == nil { order.append(r.stage) }
            newest[r.stage] = r
        }
        var lines: [String] = []
        for stage in order {
            let r = newest[stage]!
            let what: String
            if r.status != .done {
                what = "resume: stage run \(r.id) is \(r.status.rawValue)"
            } else if case let stale = try db.staleness(stageRun: r.id), !stale.isEmpty {
                what = "rerun: " + stale.map(\.description).joined(separator: "; ")
            } else {
                what = "up to date with its upstream (stage run \(r.id))"
            }
            lines.append("\(stage)\t\(what)")
        }
        lines.append("(config and code changes are not visible here: `<stage> --dry-run` with the config says what it would do)")
        return lines.joined(separator: "\n") + "\n"
    }

    /// The lineage of the artifact at `path` (relative to the run directory), as text or DOT (`LineageReport`),
    /// following `depth` levels of reads (nil: all).
    public static func lineage(_ db: ManifestDB, path: String, depth: Int? = nil, format: LineageReport.Format = .text) throws -> String {
        guard let a = try db.artifact(path: path) else {
            throw StageError.missingFile(path: path, hint: "no artifact recorded at this path; paths are relative to the run "
                                         + "directory, e.g. artifacts/fake-produce/item-0000.txt")
        }
        return LineageReport.render(try db.lineage(artifact: a.id, depth: depth), format: format)
    }

    /// Metrics (optionally of one stage's runs): stage, stage run, name, step, value.
    public static func metrics(_ db: ManifestDB, stage: String?) throws -> String {
        let runs = try db.stageRuns(stage: stage)
        let names = Dictionary(uniqueKeysWithValues: runs.map { ($0.id, $0.stage) })
        var lines = ["stage\tstage_run\tname\tstep\tvalue"]
        for m in try db.metrics(stageRun: nil) where names[m.stageRun] != nil {
            lines.append("\(names[m.stageRun]!)\t\(m.stageRun)\t\(m.name)\t\(m.step)\t\(m.value)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func timestamp(_ t: Double) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: Date(timeIntervalSince1970: t))
    }
}
