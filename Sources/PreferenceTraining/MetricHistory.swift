import Foundation
import Objectives

/// A run's recorded metrics as text in its checkpoint's metadata, exactly: one `<name>\t<step>\t<16 hex digits of the
/// Double's bits>` line per value (names never hold a tab or newline; NaN and infinities survive, which JSON would not).
public enum MetricHistory {
    public typealias Point = (name: String, step: Int, value: Double)
    /// The checkpoint metadata key.
    public static let metadataKey = "metric_history"

    public static func encode(_ points: [Point]) -> String {
        points.map { p in
            precondition(!p.name.contains("\t") && !p.name.contains("\n"), "MetricHistory: metric name '\(p.name)' holds a tab or newline")
            return "\(p.name)\t\(p.step)\t" + String(p.value.bitPattern, radix: 16)
        }.joined(separator: "\n")
    }

    /// The points of `text` (`path`: the file it came from, for the error).
    public static func decode(_ text: String, path: String) throws -> [Point] {
        guard !text.isEmpty else { return [] }
        return try text.split(separator: "\n", omittingEmptySubsequences: false).enumerated().map { i, line in
            let f = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard f.count == 3, let step = Int(f[1]), let bits = UInt64(f[2], radix: 16) else {
                throw DPOTrainError.badCheckpointMetadata(path: path, key: metadataKey, line: i + 1)
            }
            return (String(f[0]), step, Double(bitPattern: bits))
        }
    }
}
