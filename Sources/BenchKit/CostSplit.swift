import Foundation
import Manifest
import Report

/// The bench's time per item, split (issue 22 item 4): each item records, as manifest metrics of the stage run,
/// `bench_cost/<row>/sampling`, `.../judging` and `.../item` (its whole time) in seconds at step = its subject's index;
/// the results item sums them per row (`BenchCost`, bookkeeping = item - sampling - judging). Metrics, not artifacts: the
/// artifacts stay byte-identical between runs, and a journal shard's metrics are merged with its items.
public enum CostSplit {
    static let prefix = "bench_cost/"

    /// Records one item's split through `metric` (name, step, value).
    public static func record(row: String, subject: Int, sampling: Double, judging: Double, item: Double,
                              metric: (String, Int, Double) throws -> Void) throws {
        try metric(prefix + row + "/sampling", subject, sampling)
        try metric(prefix + row + "/judging", subject, judging)
        try metric(prefix + row + "/item", subject, item)
    }

    /// A recorded metric: name, step, value, and when it was recorded.
    public typealias Metric = (name: String, step: Int, value: Double, time: Double)

    /// The rows of a stage run's `metrics`, in row order; an item recorded twice (a rerun after its first completion
    /// was lost) counts once, with its newest values.
    public static func rows(_ metrics: [MetricRecord]) -> [BenchCost] {
        rows(metrics.map { ($0.name, $0.step, $0.value, $0.time) })
    }

    public static func rows(_ metrics: [Metric]) -> [BenchCost] {
        var latest: [String: [Int: [String: Metric]]] = [:]   // row -> subject -> part -> newest
        for m in metrics where m.name.hasPrefix(prefix) {
            let rest = m.name.dropFirst(prefix.count)
            guard let slash = rest.lastIndex(of: "/") else { continue }
            let row = String(rest[..<slash]), part = String(rest[rest.index(after: slash)...])
            if let old = latest[row]?[m.step]?[part], old.time > m.time { continue }
            latest[row, default: [:]][m.step, default: [:]][part] = m
        }
        return latest.keys.sorted().compactMap { row in
            let items = latest[row]!.values.filter { $0["item"] != nil }
            guard !items.isEmpty else { return nil }
            let sum = { (part: String) in items.map { $0[part]?.value ?? 0 }.reduce(0, +) }
            let sampling = sum("sampling"), judging = sum("judging")
            return BenchCost(row: row, items: items.count, samplingSeconds: sampling, judgingSeconds: judging,
                             bookkeepingSeconds: max(0, sum("item") - sampling - judging))
        }
    }
}

/// Wall-clock seconds since `start` (`Date().timeIntervalSince1970` at the start).
func seconds(since start: Double) -> Double { Date().timeIntervalSince1970 - start }
