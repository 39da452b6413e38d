/// Why a finished stage run no longer reflects its upstream: one upstream stage and what changed there.
public struct Staleness: Sendable, Equatable, CustomStringConvertible {
    /// The upstream stage whose outputs changed since the run consumed them.
    public var upstream: String
    /// What changed, naming the file and the stage runs.
    public var change: String

    public var description: String { "upstream \(upstream) changed: \(change)" }
}

extension ManifestDB {
    /// The upstream changes stage run `id` has not seen (empty: it is current), at most one per upstream stage, in
    /// the order of its inputs. An input is out of date when the newest record of its path has other contents (an
    /// upstream rerun rewrote the file; a rerun that wrote the same bytes changes nothing) or when the newest
    /// finished run of its stage no longer produces that path. What an upstream added beside the inputs (items
    /// appended to a pool) is not seen here; the stage planner's fingerprint sees it when the stage runs.
    public func staleness(stageRun id: Int64) throws -> [Staleness] {
        var out: [Staleness] = []
        var seen: Set<String> = []
        var producers: [Int64: StageRunRecord] = [:]
        var newestDone: [String: (id: Int64, paths: Set<String>)?] = [:]
        func producer(_ run: Int64) throws -> StageRunRecord {
            if let r = producers[run] { return r }
            let r = try stageRun(id: run)
            producers[run] = r
            return r
        }
        for a in try inputs(stageRun: id) {
            let from = try producer(a.stageRun).stage
            guard !seen.contains(from) else { continue }
            if let newest = try artifact(path: a.relativePath), newest.sha256 != a.sha256 {
                let by = try producer(newest.stageRun)
                seen.insert(by.stage)
                out.append(Staleness(upstream: by.stage, change: "its stage run \(by.id) rewrote \(a.relativePath), which this run "
                                     + "read from stage run \(a.stageRun)"))
                continue
            }
            if newestDone[from] == nil {
                newestDone[from] = try stageRuns(stage: from).first { $0.status == .done }
                    .map { r in (r.id, Set(try artifacts(stageRun: r.id).map(\.relativePath))) }
            }
            if let newer = newestDone[from] ?? nil, newer.id != a.stageRun, !newer.paths.contains(a.relativePath) {
                seen.insert(from)
                out.append(Staleness(upstream: from, change: "its newest stage run \(newer.id) no longer produces \(a.relativePath), "
                                     + "which this run read from stage run \(a.stageRun)"))
            }
        }
        return out
    }
}
