import ArgumentParser
import Foundation

/// Verbosity of a stage's log on stderr.
public enum LogLevel: String, Sendable, CaseIterable, Comparable, ExpressibleByArgument {
    case debug, info, warn, error

    var rank: Int { LogLevel.allCases.firstIndex(of: self)! }
    public static func < (a: LogLevel, b: LogLevel) -> Bool { a.rank < b.rank }
}

/// Line-oriented log to stderr: `<stage>: <message>` (with `warning:`/`error:` prefixes).
/// Lines are written with one `write(2)` each so concurrent shards do not interleave mid-line.
public struct Log: Sendable {
    public let stage: String
    public let level: LogLevel
    /// Where lines go; tests capture them.
    public let sink: @Sendable (String) -> Void

    public init(stage: String, level: LogLevel, sink: @escaping @Sendable (String) -> Void = Log.stderr) {
        self.stage = stage; self.level = level; self.sink = sink
    }

    public static let stderr: @Sendable (String) -> Void = { line in
        FileHandle.standardError.write(Data(line.utf8))
    }

    public func debug(_ m: @autoclosure () -> String) { emit(.debug, m()) }
    public func info(_ m: @autoclosure () -> String) { emit(.info, m()) }
    public func warn(_ m: @autoclosure () -> String) { emit(.warn, "warning: " + m()) }
    public func error(_ m: @autoclosure () -> String) { emit(.error, "error: " + m()) }

    private func emit(_ l: LogLevel, _ message: String) {
        guard l >= level else { return }
        sink("\(stage): \(message)\n")
    }
}
