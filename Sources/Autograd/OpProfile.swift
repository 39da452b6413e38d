import Dispatch
import Synchronization
import TensorCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a training step's time goes, per autograd op (issue 22 item 2: `perf-bench unet` prints it).
///
/// Off by default and then free but for one branch per recorded op. When on (`start` ... `stop`):
/// - forward: each recorded op is charged the wall time since the previous recorded op (or `start`), so the
///   tensor work between two ops, which is the later op's kernel plus the module glue that prepared its inputs,
///   lands on that op; work no op records (a constant built inside a module) lands on the next op;
/// - backward: each node's backward rule is timed on its own, and the summing of gradients that reach one
///   variable from several users is charged to `gradient accumulation`;
/// - FLOPs of the ops that do the multiply-adds (`linear`, `matmul`, `conv2d`, `attention`,
///   `multiHeadAttention`) from their shapes: forward 2 x multiply-adds, backward twice the forward (the input
///   and the weight gradients).
/// Per thread: only the thread that called `start` is charged (its graph is built and swept on it; kernels may use
/// several threads inside an op), so ops that other threads record meanwhile neither count nor race on the table.
public enum OpProfile {
    public struct Entry: Sendable, Equatable {
        public var calls = 0
        public var forwardSeconds = 0.0
        public var backwardSeconds = 0.0
        public var forwardFLOPs = 0.0
        public var backwardFLOPs = 0.0

        public init(calls: Int = 0, forwardSeconds: Double = 0, backwardSeconds: Double = 0, forwardFLOPs: Double = 0,
                    backwardFLOPs: Double = 0) {
            self.calls = calls; self.forwardSeconds = forwardSeconds; self.backwardSeconds = backwardSeconds
            self.forwardFLOPs = forwardFLOPs; self.backwardFLOPs = backwardFLOPs
        }
    }

    /// The profiling thread's table; only that thread's ops are charged.
    struct State {
        var owner: pthread_t?
        var entries: [String: Entry] = [:]
        var last: UInt64 = 0
    }

    static let active = Atomic<Bool>(false)
    static let state = Mutex(State())

    /// Whether a profile is running (on some thread): the one check on the hot path.
    @inline(__always) static var enabled: Bool { active.load(ordering: .relaxed) }

    /// The table so far (op name -> entry).
    static var entries: [String: Entry] { state.withLock { $0.entries } }

    /// The name `backward` charges the summing of several users' gradients to.
    public static let accumulation = "gradient accumulation"

    /// Clears the table and starts charging the calling thread's ops. Other threads (parallel tests, a data
    /// loader) keep running unprofiled: their ops are neither charged nor allowed to touch the table.
    public static func start() {
        state.withLock { $0 = State(owner: pthread_self(), entries: [:], last: DispatchTime.now().uptimeNanoseconds) }
        active.store(true, ordering: .relaxed)
    }

    /// Stops charging and returns the table (op name -> entry).
    @discardableResult
    public static func stop() -> [String: Entry] {
        active.store(false, ordering: .relaxed)
        return state.withLock { s in
            s.owner = nil
            return s.entries
        }
    }

    static func forward(_ op: String, value: Tensor, inputs: [Variable]) {
        let now = DispatchTime.now().uptimeNanoseconds
        state.withLock { s in
            guard s.isOwner else { return }
            var e = s.entries[op, default: Entry()]
            e.calls += 1
            e.forwardSeconds += Double(now &- s.last) / 1e9
            let f = flops(op, value: value, inputs: inputs)
            e.forwardFLOPs += f
            e.backwardFLOPs += 2 * f
            s.entries[op] = e
            s.last = now
        }
    }

    static func backward(_ op: String, seconds: Double) {
        state.withLock { s in
            guard s.isOwner else { return }
            s.entries[op, default: Entry()].backwardSeconds += seconds
        }
    }

    /// Forward FLOPs (2 per multiply-add) of the GEMM-shaped ops; 0 for the rest.
    static func flops(_ op: String, value: Tensor, inputs: [Variable]) -> Double {
        switch op {
        case "linear":                       // x [..., in], weight [out, in] -> [..., out]
            return 2 * Double(value.count) * Double(inputs[0].shape.last ?? 0)
        case "matmul":                       // a [..., m, k] -> [..., m, n]
            return 2 * Double(value.count) * Double(inputs[0].shape.last ?? 0)
        case "conv2d":                       // weight [out, in, kh, kw]
            let w = inputs[1].shape
            return 2 * Double(value.count) * Double(w[1] * w[2] * w[3])
        case "attention", "multiHeadAttention":   // q k^T then p v: Lk keys
            let k = inputs[1].shape
            let lk = Double(k[k.count - 2])
            return 2 * Double(inputs[0].value.count) * lk + 2 * Double(value.count) * lk
        default:
            return 0
        }
    }
}

extension OpProfile.State {
    var isOwner: Bool {
        guard let owner else { return false }
        return pthread_equal(owner, pthread_self()) != 0
    }
}
