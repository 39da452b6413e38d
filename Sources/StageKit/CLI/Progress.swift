import Foundation

/// Progress of a per-item loop. On a terminal (text log): one bar redrawn in place on stderr, clearing the rest of
/// its line (`[#####-----] 12/40  3.1 items/s  eta 9s`). Otherwise (cron, CI, pipes, `--log-format json`): a log line
/// (`12/40 items (30%), 3.1 items/s, eta 9s`; in JSON with `completed` and `total` fields) at the start (0%), at least
/// every `interval` seconds while items run (a heartbeat timer covers items slower than the interval) and at the end
/// (100%, or where an interruption stopped it), so a 1-second stage logs its progress too.
/// Thread-safe: the heartbeat fires on another thread, so all state sits behind `lock`.
public final class ProgressReporter: @unchecked Sendable {
    public let total: Int
    /// Draws the bar (stderr is a terminal and the log is text); else logs lines.
    public let terminal: Bool
    public let interval: Double
    private let log: Log
    private let clock: @Sendable () -> Double
    private let start: Double
    private let lock = NSLock()
    private var lastEmit: Double
    private var lastLogged: Int?
    private var done = 0
    private var drewBar = false
    private var finished = false
    private var timer: DispatchSourceTimer?

    /// - Parameters: total items to do in this invocation; `terminal` defaults to `isatty(stderr)`; `heartbeat` starts
    ///   the timer that logs when no item finished for `interval` seconds (tests drive `tick()` with their clock).
    public init(total: Int, log: Log, terminal: Bool = isatty(2) == 1, interval: Double = 10, heartbeat: Bool = true,
                clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) {
        self.total = total; self.log = log; self.terminal = terminal && log.format == .text; self.interval = interval
        self.clock = clock
        start = clock()
        lastEmit = start
        guard !self.terminal, total > 0 else { return }
        lock.withLock { emitLine(now: start) }
        if heartbeat {
            let t = DispatchSource.makeTimerSource(queue: DispatchQueue.global(qos: .utility))
            let period = max(0.05, min(1, interval / 10))   // a line at most `period` after it is due
            t.schedule(deadline: .now() + period, repeating: period)
            t.setEventHandler { [weak self] in self?.tick() }
            t.resume()
            timer = t
        }
    }

    deinit { timer?.cancel() }

    /// Items finished so far (done or failed).
    public var completed: Int { lock.withLock { done } }

    /// Records `n` more finished items (done or failed) and redraws or logs when due.
    public func advance(by n: Int = 1) {
        lock.withLock {
            done += n
            let now = clock()
            if terminal {
                guard log.level <= .info else { return }
                log.sink("\r" + bar(now: now) + "\u{1B}[K")   // ESC[K: erase what a longer earlier bar left
                log.barLine.set(true)
                drewBar = true
            } else if now - lastEmit >= interval {
                emitLine(now: now)
            }
        }
    }

    /// Logs a line if none was logged for `interval` seconds (the heartbeat calls it; items may be slow).
    public func tick() {
        lock.withLock {
            let now = clock()
            if !terminal && !finished && total > 0 && now - lastEmit >= interval { emitLine(now: now) }
        }
    }

    /// Ends the bar line on a terminal (drawn once more: a log line may have cleared it); elsewhere logs the final line (unless the last one already showed this count).
    public func finish() {
        timer?.cancel()
        lock.withLock {
            if terminal && drewBar {
                log.sink("\r" + bar(now: clock()) + "\u{1B}[K\n")
                log.barLine.set(false)
            }
            drewBar = false
            if !terminal && !finished && total > 0 && lastLogged != done { emitLine(now: clock()) }
            finished = true
        }
    }

    /// Under `lock`.
    private func emitLine(now: Double) {
        lastEmit = now
        lastLogged = done
        // The counts as fields for log shippers; the text line already shows them.
        log.info(line(now: now), metadata: log.format == .json ? ["completed": "\(done)", "total": "\(total)"] : nil)
    }

    func rate(now: Double) -> Double { done > 0 ? Double(done) / max(now - start, 1e-9) : 0 }

    func eta(now: Double) -> String {
        let r = rate(now: now)
        guard r > 0 else { return "?" }
        return Self.duration(Double(total - done) / r)
    }

    func line(now: Double) -> String {
        let pct = total > 0 ? done * 100 / total : 100
        return "\(done)/\(total) items (\(pct)%), \(String(format: "%.1f", rate(now: now))) items/s, eta \(eta(now: now))"
    }

    func bar(now: Double, width: Int = 30) -> String {
        let filled = total > 0 ? min(width, done * width / total) : width
        return "\(log.stage): [" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
            + "] \(done)/\(total)  \(String(format: "%.1f", rate(now: now))) items/s  eta \(eta(now: now))"
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
