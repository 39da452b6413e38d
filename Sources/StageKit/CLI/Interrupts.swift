import Foundation
import Synchronization

/// The signal that asked us to stop (0 = none). A lock-free atomic, so the signal handler may
/// store into it (async-signal-safe); initialised before any handler is installed.
private let pendingSignal = Atomic<Int32>(0)

/// SIGINT/SIGTERM handling for batch loops: the first signal sets a flag that the item loop checks
/// between items (the item in flight finishes and is committed); a second signal exits at once
/// with 128+signal (work in flight is lost, which the manifest tolerates: its lease expires).
public enum Interrupts {
    /// Installs the handlers (idempotent).
    public static func install() {
        _ = pendingSignal.load(ordering: .relaxed)
        // A parent may have spawned us with these signals blocked (Foundation's Process does);
        // unblock them so the handlers run.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        for sig in [SIGINT, SIGTERM] {
            signal(sig) { s in
                if pendingSignal.exchange(s, ordering: .relaxed) != 0 { _exit(128 + s) }
            }
        }
    }

    /// The signal received, if any.
    public static var received: Int32? {
        let s = pendingSignal.load(ordering: .relaxed)
        return s == 0 ? nil : s
    }

    /// The exact command line of this process minus `--force` (a resume must not restart).
    public static func resumeCommand(arguments: [String] = CommandLine.arguments) -> String {
        arguments.filter { $0 != "--force" }.map(shellQuote).joined(separator: " ")
    }

    static func shellQuote(_ s: String) -> String {
        let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%")
        if !s.isEmpty && s.allSatisfy({ safe.contains($0) }) { return s }
        return "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
