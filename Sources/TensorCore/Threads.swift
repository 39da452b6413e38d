import Dispatch
import Foundation
import Synchronization

/// A problem with the thread configuration taken from the environment.
public enum ThreadsError: Error, CustomStringConvertible, Equatable {
    /// `PDPO_THREADS` holds something other than a positive integer.
    case invalidEnvironment(variable: String, value: String)

    public var description: String {
        switch self {
        case let .invalidEnvironment(variable, value):
            return "\(variable)=\"\(value)\" is not a positive integer; "
                + "unset it to use every core, or set e.g. \(variable)=2"
        }
    }
}

/// How many threads the kernels use, and the one helper that spreads work over them.
///
/// - The count is `Threads.configure(count:)` if called, else `PDPO_THREADS` if it is a positive
///   integer, else the active processor count. OpenBLAS itself always runs single-threaded:
///   `sgemm` (BLAS.swift) splits large products over these threads instead.
/// - `Threads.withCount(n) { ... }` overrides the count for the current task only (a task-local),
///   which lets tests run a kernel with 1 and 2 threads side by side without touching global state.
///   The override applies to sgemm too (it splits C into shape-fixed blocks, never the K sum).
/// - Determinism: `parallelFor` cuts `0..<n` into chunks of a FIXED size chosen by the kernel, never
///   by the thread count, and every kernel combines per-chunk partial results in chunk order. So a
///   kernel gives bit-identical results for any thread count.
public enum Threads {
    /// The environment variable read at first use.
    public static let environmentVariable = "PDPO_THREADS"

    private static let configured = Mutex<Int?>(nil)
    @TaskLocal private static var override: Int?

    /// The thread count in force for the current task.
    public static var count: Int {
        if let o = override { return o }
        if let c = configured.withLock({ $0 }) { return c }
        return defaultCount
    }

    /// `PDPO_THREADS` when valid, else the active processor count; read once (a lazy static,
    /// initialised thread-safely), since `count` is consulted by every kernel call. OpenBLAS is
    /// set to one thread then (`setBLASSingleThreaded`), so the variable is honoured without an explicit call. An invalid
    /// value is reported by `configureFromEnvironment`, which executables call at start.
    private static let defaultCount: Int = {
        let c = (try? parse(ProcessInfo.processInfo.environment)) ?? nil
        let n = c ?? max(1, ProcessInfo.processInfo.activeProcessorCount)
        setBLASSingleThreaded()   // BLAS.swift splits large products itself
        _ = Allocator.configured      // before the first large tensor is freed (Allocator.swift)
        return n
    }()

    /// Forces the lazy default (and its OpenBLAS setting) before the first BLAS call, so that
    /// OpenBLAS's thread count never changes under a running sgemm.
    static func prepareBLAS() { _ = defaultCount }

    /// Sets the process-wide thread count (kernels and OpenBLAS). Call it at program start, before
    /// kernels run on other threads: OpenBLAS must not be reconfigured during an sgemm.
    public static func configure(count: Int) {
        precondition(count >= 1, "Threads.configure: count must be >= 1, got \(count)")
        configured.withLock { $0 = count }
        setBLASSingleThreaded()   // BLAS.swift splits large products itself
        _ = Allocator.configured
    }

    /// Reads `PDPO_THREADS` from `environment` and configures from it (or from the processor
    /// count when unset). Throws when the variable is set but is not a positive integer.
    @discardableResult
    public static func configureFromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ThreadsError) -> Int {
        let n = try parse(environment) ?? max(1, ProcessInfo.processInfo.activeProcessorCount)
        configure(count: n)
        return n
    }

    /// The count requested by `environment`, nil when unset.
    static func parse(_ environment: [String: String]) throws(ThreadsError) -> Int? {
        guard let raw = environment[environmentVariable] else { return nil }
        let trimmed = raw.trimmingCharacters(in: .whitespaces)
        guard let n = Int(trimmed), n >= 1 else {
            throw .invalidEnvironment(variable: environmentVariable, value: raw)
        }
        return n
    }

    /// Runs `body` with the kernels' thread count set to `count` for this task only.
    public static func withCount<R>(_ count: Int, _ body: () throws -> R) rethrows -> R {
        precondition(count >= 1, "Threads.withCount: count must be >= 1, got \(count)")
        return try $override.withValue(count) { try body() }
    }

    /// Calls `body` on the chunks `[0, chunk), [chunk, 2 chunk), ...` of `0..<n`, spread over
    /// `Threads.count` threads. Chunk `i` always covers the same range whatever the thread count;
    /// `body` must write only to locations owned by its chunk.
    public static func parallelFor(_ n: Int, chunk: Int, _ body: (Range<Int>) -> Void) {
        precondition(chunk >= 1, "parallelFor: chunk must be >= 1, got \(chunk)")
        guard n > 0 else { return }
        let chunks = (n + chunk - 1) / chunk
        let workers = min(count, chunks)
        if workers <= 1 {
            for c in 0..<chunks { body(c * chunk..<min(n, (c + 1) * chunk)) }
            return
        }
        // The caller and `workers - 1` helpers claim chunks from a shared counter. The caller waits
        // only for chunks that were claimed, never for a helper that has not started: on a busy
        // machine a helper may get a core only milliseconds later, and then finds nothing to do.
        // Which thread runs a chunk varies; the chunks do not, so results stay deterministic.
        let job = ParallelJob(n: n, chunk: chunk, chunks: chunks)
        // The caller's matrix-product precision (a task-local) goes with the chunks to the helpers.
        let precision = GEMMPrecision.current
        withoutActuallyEscaping(body) { body in
            job.body = body
            for _ in 1..<workers {
                DispatchQueue.global(qos: .userInitiated).async {
                    let last = precision == .fp32 ? job.work() : GEMMPrecision.$current.withValue(precision) { job.work() }
                    if last { job.finished.signal() }
                }
            }
            if !job.work() { job.finished.wait() }
            job.body = nil  // every claimed chunk has completed; late helpers never touch `body`
        }
    }

    /// Like `parallelFor`, but each chunk returns a partial result; the partials come back in chunk
    /// order so the caller combines them deterministically.
    public static func parallelMap<T>(_ n: Int, chunk: Int, _ body: (Range<Int>) -> T) -> [T] {
        let chunks = n <= 0 ? 0 : (n + chunk - 1) / chunk
        var results = [T?](repeating: nil, count: chunks)
        results.withUnsafeMutableBufferPointer { res in
            let out = UnsafeSendable(res)
            parallelFor(chunks, chunk: 1) { cs in
                for c in cs { out.value[c] = body(c * chunk..<min(n, (c + 1) * chunk)) }
            }
        }
        return results.map { $0! }
    }
}

/// Shared state of one `parallelFor`: a chunk counter, a completion counter, and the body, which
/// is called only for a claimed chunk (so only while the caller is waiting for it).
private final class ParallelJob: @unchecked Sendable {
    let n: Int, chunk: Int, chunks: Int
    let next = Atomic<Int>(0)
    let done = Atomic<Int>(0)
    let finished = DispatchSemaphore(value: 0)
    var body: ((Range<Int>) -> Void)?

    init(n: Int, chunk: Int, chunks: Int) { self.n = n; self.chunk = chunk; self.chunks = chunks }

    /// Runs chunks until none are left; true when this thread completed the last one.
    func work() -> Bool {
        var completedLast = false
        while true {
            let c = next.wrappingAdd(1, ordering: .relaxed).oldValue
            if c >= chunks { return completedLast }
            body!(c * chunk..<min(n, (c + 1) * chunk))
            if done.wrappingAdd(1, ordering: .acquiringAndReleasing).newValue == chunks { completedLast = true }
        }
    }
}

/// Carries a non-Sendable value (a closure or buffer pointer) into `concurrentPerform`.
/// Safe because every use writes disjoint memory per chunk and the call joins before returning.
struct UnsafeSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
