import Foundation

/// Progress of a per-item loop. On a terminal: one bar redrawn in place on stderr
/// (`[#####-----] 12/40  3.1 items/s  eta 9s`). Otherwise (cron, CI, pipes): a plain log line every
/// `interval` seconds (`12/40 items (30%), 3.1 items/s, eta 9s`), so logs stay readable.
public final class ProgressReporter {
    public let total: Int
    public let terminal: Bool
    public let interval: Double
    private let log: Log
    private let clock: () -> Double
    private let start: Double
    private var lastEmit: Double
    private(set) public var completed = 0
    private var drewBar = false

    /// - Parameters: total items to do in this invocation; `terminal` defaults to `isatty(stderr)`.
    public init(total: Int, log: Log, terminal: Bool = isatty(2) == 1, interval: Double = 10,
                clock: @escaping () -> Double = { Date().timeIntervalSince1970 }) {
        self.total = total; self.log = log; self.terminal = terminal; self.interval = interval
        self.clock = clock
        start = clock()
        lastEmit = start
    }

    /// Records `n` more finished items (done or failed) and redraws or logs when due.
    public func advance(by n: Int = 1) {
        completed += n
        let now = clock()
        if terminal {
            guard log.level <= .info else { return }
            log.sink("\r" + bar(now: now))
            drewBar = true
        } else if now - lastEmit >= interval {
            lastEmit = now
            log.info(line(now: now))
        }
    }

    /// Ends the bar line on a terminal.
    public func finish() {
        if terminal && drewBar { log.sink("\n") }
        drewBar = false
    }

    func rate(now: Double) -> Double { completed > 0 ? Double(completed) / max(now - start, 1e-9) : 0 }

    func eta(now: Double) -> String {
        let r = rate(now: now)
        guard r > 0 else { return "?" }
        return Self.duration(Double(total - completed) / r)
    }

    func line(now: Double) -> String {
        let pct = total > 0 ? completed * 100 / total : 100
        return "\(completed)/\(total) items (\(pct)%), \(String(format: "%.1f", rate(now: now))) items/s, eta \(eta(now: now))"
    }

    func bar(now: Double, width: Int = 30) -> String {
        let filled = total > 0 ? min(width, completed * width / total) : width
        return "\(log.stage): [" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
            + "] \(completed)/\(total)  \(String(format: "%.1f", rate(now: now))) items/s  eta \(eta(now: now))"
    }

    /// `0.42s`, `12s`, `3m05s`, `1h02m`.
    public static func duration(_ s: Double) -> String {
        if s < 10 { return String(format: "%.2fs", s) }
        let t = Int(s.rounded())
        if t < 60 { return "\(t)s" }
        if t < 3600 { return String(format: "%dm%02ds", t / 60, t % 60) }
        return String(format: "%dh%02dm", t / 3600, (t % 3600) / 60)
    }
}

/// The line every stage prints at the end (stdout): items done now, skipped (done before or stage
/// up to date), failed, and wall time. Format: `<stage>: done 12, skipped 8, failed 0 in 3.20s`.
public struct StageSummary: Sendable, Equatable, CustomStringConvertible {
    public var stage: String
    public var done = 0
    public var skipped = 0
    public var failed = 0
    public var seconds = 0.0
    public var upToDate = false
    /// `--dry-run`: the decision was printed and nothing ran.
    public var dryRun = false

    public init(stage: String) { self.stage = stage }

    public var description: String {
        "\(stage): done \(done), skipped \(skipped), failed \(failed) in \(ProgressReporter.duration(seconds))"
            + (dryRun ? " (dry run)" : upToDate ? " (up to date)" : "")
    }
}
