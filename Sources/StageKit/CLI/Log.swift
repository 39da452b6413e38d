import ArgumentParser
import Foundation
import Logging

/// Verbosity of a stage's log on stderr.
public enum LogLevel: String, Sendable, CaseIterable, Comparable, ExpressibleByArgument {
    case debug, info, warn, error

    var rank: Int { LogLevel.allCases.firstIndex(of: self)! }
    public static func < (a: LogLevel, b: LogLevel) -> Bool { a.rank < b.rank }

    /// swift-log's level of the same verbosity (`warn` is `.warning`).
    public var swiftLog: Logger.Level {
        switch self {
        case .debug: return .debug
        case .info: return .info
        case .warn: return .warning
        case .error: return .error
        }
    }
}

/// `--log-format`: `text` for people (`<ts> <stage> <level>: <message>`), `json` for log shippers (one object a line).
public enum LogFormat: String, Sendable, CaseIterable, ExpressibleByArgument {
    case text, json
}

/// A stage's log on stderr, a thin front over a swift-log `Logger` whose handler is `StageLogHandler`:
/// every line carries an ISO-8601 UTC timestamp, the stage and the level, so logs appended by cron read alone:
/// `2026-12-04T07:47:12Z patch-quality info: 40 item(s) to do, 0 already done`
/// (`warning:` and `error:` where today's lines said so), or with `--log-format json`
/// `{"ts":"2026-12-04T07:47:12.345Z","stage":"patch-quality","level":"info","message":"40 item(s) to do, ..."}`.
/// Lines are written with one `write(2)` each so concurrent shards do not interleave mid-line.
public struct Log: Sendable {
    public let stage: String
    public let level: LogLevel
    public let format: LogFormat
    /// Where lines go (whole lines, newline included); tests capture them. The terminal progress bar writes here too.
    public let sink: @Sendable (String) -> Void
    /// The swift-log logger every line goes through (for code that logs with metadata or hands a `Logger` on).
    public let logger: Logger
    /// Whether the terminal's current line holds the progress bar: a log line clears it first (the next advance
    /// redraws it below), so a warning never lands at the end of the bar.
    let barLine = BarLine()

    public init(stage: String, level: LogLevel, format: LogFormat = .text,
                sink: @escaping @Sendable (String) -> Void = Log.stderr,
                clock: @escaping @Sendable () -> Date = { Date() }) {
        self.stage = stage; self.level = level; self.format = format; self.sink = sink
        let bar = barLine
        let handler = StageLogHandler(stage: stage, format: format, level: level.swiftLog,
                                      sink: { line in sink((bar.take() ? "\r\u{1B}[K" : "") + line) }, clock: clock)
        logger = Logger(label: stage, factory: { _ in handler })
    }

    public static let stderr: @Sendable (String) -> Void = { line in
        FileHandle.standardError.write(Data(line.utf8))
    }

    public func debug(_ m: @autoclosure () -> String, metadata: Logger.Metadata? = nil) {
        logger.debug(Logger.Message(stringLiteral: m()), metadata: metadata)
    }
    public func info(_ m: @autoclosure () -> String, metadata: Logger.Metadata? = nil) {
        logger.info(Logger.Message(stringLiteral: m()), metadata: metadata)
    }
    public func warn(_ m: @autoclosure () -> String, metadata: Logger.Metadata? = nil) {
        logger.warning(Logger.Message(stringLiteral: m()), metadata: metadata)
    }
    public func error(_ m: @autoclosure () -> String, metadata: Logger.Metadata? = nil) {
        logger.error(Logger.Message(stringLiteral: m()), metadata: metadata)
    }
}

/// Whether a progress bar holds the terminal's current line (`ProgressReporter` sets it, a log line takes it).
final class BarLine: @unchecked Sendable {
    private let lock = NSLock()
    private var shown = false

    func set(_ value: Bool) { lock.withLock { shown = value } }

    /// Whether the bar was shown; it is not any more.
    func take() -> Bool { lock.withLock { defer { shown = false }; return shown } }
}

/// The swift-log handler of every stage: formats one line per event (text or JSON) and hands it to a sink.
public struct StageLogHandler: LogHandler {
    public let stage: String
    public let format: LogFormat
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    let sink: @Sendable (String) -> Void
    let clock: @Sendable () -> Date

    public init(stage: String, format: LogFormat, level: Logger.Level, sink: @escaping @Sendable (String) -> Void,
                clock: @escaping @Sendable () -> Date = { Date() }) {
        self.stage = stage; self.format = format; logLevel = level; self.sink = sink; self.clock = clock
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var all = metadata
        if let provided = metadataProvider?.get() { all.merge(provided) { _, new in new } }
        if let own = event.metadata { all.merge(own) { _, new in new } }
        sink(line(date: clock(), level: event.level, message: event.message.description, metadata: all))
    }

    /// One line, newline included. Text: `<ts> <stage> <level>: <message>[ key=value ...]` (metadata sorted by key).
    /// JSON: `ts`, `stage`, `level`, `message`, then the metadata (a key clashing with those four gets `meta.`).
    public func line(date: Date, level: Logger.Level, message: String, metadata: Logger.Metadata) -> String {
        let keys = metadata.keys.sorted()
        switch format {
        case .text:
            let extra = keys.map { " \($0)=\(metadata[$0]!)" }.joined()
            return "\(ISO8601UTC.string(date, fractional: false)) \(stage) \(Self.name(level)): \(message)\(extra)\n"
        case .json:
            var fields = [("ts", JSONText.string(ISO8601UTC.string(date, fractional: true))), ("stage", JSONText.string(stage)),
                          ("level", JSONText.string(Self.name(level))), ("message", JSONText.string(message))]
            let reserved: Set = ["ts", "stage", "level", "message"]
            for k in keys { fields.append((reserved.contains(k) ? "meta." + k : k, JSONText.value(metadata[k]!))) }
            return "{" + fields.map { "\(JSONText.string($0.0)):\($0.1)" }.joined(separator: ",") + "}\n"
        }
    }

    /// `debug`, `info`, `warning`, `error` (and swift-log's `trace`, `notice`, `critical`).
    static func name(_ level: Logger.Level) -> String { level.rawValue }
}

/// `2026-12-04T07:47:12Z` (or `.345Z` with `fractional`): UTC, what `ISO8601DateFormatter` prints, without its
/// shared mutable formatter.
enum ISO8601UTC {
    static func string(_ date: Date, fractional: Bool) -> String {
        let t = date.timeIntervalSince1970
        var seconds = time_t(t.rounded(.down))
        var ms = Int(((t - Double(seconds)) * 1000).rounded(.down))
        if ms >= 1000 { seconds += 1; ms -= 1000 }
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let base = String(format: "%04d-%02d-%02dT%02d:%02d:%02d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
                          Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
        return base + (fractional ? String(format: ".%03dZ", ms) : "Z")
    }
}

/// JSON text of log fields (metadata arrays and dictionaries as JSON arrays and objects). Strings go through
/// Foundation's JSONEncoder (RFC 8259 escapes), as the safetensors header does, rather than a hand-written table.
enum JSONText {
    private static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.withoutEscapingSlashes]
        return e
    }()

    static func string(_ s: String) -> String {
        // Encoding a String cannot fail; the fallback keeps a log line whole if Foundation ever disagrees.
        (try? encoder.encode(s)).flatMap { String(data: $0, encoding: .utf8) } ?? "\"<unencodable>\""
    }

    static func value(_ v: Logger.Metadata.Value) -> String {
        switch v {
        case .string(let s): return string(s)
        case .stringConvertible(let c): return string(c.description)
        case .array(let a): return "[" + a.map(value).joined(separator: ",") + "]"
        case .dictionary(let d):
            return "{" + d.keys.sorted().map { "\(string($0)):\(value(d[$0]!))" }.joined(separator: ",") + "}"
        }
    }
}
