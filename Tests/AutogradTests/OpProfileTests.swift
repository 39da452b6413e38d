import Dispatch
import Testing
import TensorCore
@testable import Autograd

/// `OpProfile` (perf-bench's per-op table): each recorded op is counted once with its GEMM FLOPs from its shapes
/// (linear 2 x rows x in x out, conv2d 2 x outputs x in x kh x kw, attention q k^T plus p v), backward rules are timed
/// under their op, several users' gradients are charged to `gradient accumulation`, and nothing is recorded when off.
@Suite(.serialized) struct OpProfileTests {
    @Test func countsOpsAndTheirFLOPs() {
        let x = Variable(Tensor(shape: [4, 8], scalars: (0..<32).map { Float($0) / 32 }), requiresGrad: true)
        let w = Variable(Tensor(shape: [16, 8], scalars: (0..<128).map { Float($0 % 7) / 7 }), requiresGrad: true)
        let b = Variable(Tensor(shape: [16], scalars: Array(repeating: 0.1, count: 16)), requiresGrad: true)
        let img = Variable(Tensor(shape: [2, 3, 6, 6], scalars: (0..<216).map { Float($0 % 5) }), requiresGrad: true)
        let k = Variable(Tensor(shape: [5, 3, 3, 3], scalars: (0..<135).map { Float($0 % 3) / 3 }), requiresGrad: true)
        let q = Variable(Tensor(shape: [1, 4, 6], scalars: (0..<24).map { Float($0) / 24 }), requiresGrad: true)
        let kv = Variable(Tensor(shape: [1, 7, 6], scalars: (0..<42).map { Float($0 % 5) / 5 }), requiresGrad: true)
        _ = linear(x, weight: w, bias: b)                                   // not profiled: nothing recorded
        #expect(OpProfile.entries.isEmpty || !OpProfile.enabled)
        OpProfile.start()
        let y = linear(x, weight: w, bias: b)                               // [4, 16]
        let c = conv2d(img, weight: k, bias: nil, padding: 1)                // [2, 5, 6, 6]
        let a = multiHeadAttention(q, kv, kv, heads: 2)                      // [1, 4, 6], 7 keys
        let loss = (y * y).sum() + c.sum() + a.sum() + y.sum()               // y has two users
        loss.backward()
        let t = OpProfile.stop()
        #expect(t["linear"]?.calls == 1 && t["linear"]?.forwardFLOPs == 2 * 4 * 8 * 16 && t["linear"]?.backwardFLOPs == 4 * 4 * 8 * 16)
        #expect(t["conv2d"]?.forwardFLOPs == 2 * Double(2 * 5 * 6 * 6) * 27)
        #expect(t["multiHeadAttention"]?.forwardFLOPs == Double(2 * 24 * 7 + 2 * 24 * 7), "q k^T over 7 keys, then p v")
        #expect(t["mul"]?.forwardFLOPs == 0 && t["mul"]?.calls == 1)
        #expect((t["linear"]?.backwardSeconds ?? 0) > 0 && (t["conv2d"]?.forwardSeconds ?? 0) > 0)
        #expect(t[OpProfile.accumulation] != nil, "y's two users' gradients are summed")
        _ = linear(x, weight: w, bias: b)
        #expect(OpProfile.entries["linear"]?.calls == 1, "stopped: no more charges")
    }

    /// Swift Testing runs other suites' autograd on other threads while one profiles: their ops are not charged and
    /// do not touch the table (before, they mutated it unsynchronised and crashed the test run in CI).
    @Test func chargesOnlyTheProfilingThread() {
        let x = Variable(Tensor(shape: [4, 8], scalars: (0..<32).map { Float($0) / 32 }), requiresGrad: true)
        OpProfile.start()
        let others = DispatchGroup()
        for _ in 0..<3 {
            DispatchQueue.global().async(group: others) {
                let x = Variable(Tensor(shape: [4, 8], scalars: Array(repeating: 0.5, count: 32)), requiresGrad: true)
                let w = Variable(Tensor(shape: [16, 8], scalars: Array(repeating: 0.25, count: 128)), requiresGrad: true)
                for _ in 0..<200 { _ = linear(x, weight: w, bias: nil).sum() }
            }
        }
        _ = (x * x).sum()
        others.wait()
        let t = OpProfile.stop()
        #expect(t["linear"] == nil, "600 linears on three other threads, none charged")
        #expect(t["mul"]?.calls == 1 && t["sum"]?.calls == 1, "the profiling thread's own ops are")
    }
}
