import Autograd
import Dispatch
import Foundation
import TensorCore

/// Medians of `steps` training steps after one warm-up step: forward (`loss`), backward, optimizer step (with the
/// gradients zeroed), whole step; and the last loss.
struct StepTimes {
    var forward = 0.0, backward = 0.0, optimizer = 0.0, step = 0.0
    var loss: Float = 0

    init(steps: Int, loss makeLoss: () -> Variable, optimizerStep: () -> Void) {
        var phases: [[Double]] = []
        for i in 0...steps {
            let t0 = DispatchTime.now().uptimeNanoseconds
            let l = makeLoss()
            let t1 = DispatchTime.now().uptimeNanoseconds
            l.backward()
            let t2 = DispatchTime.now().uptimeNanoseconds
            optimizerStep()
            let t3 = DispatchTime.now().uptimeNanoseconds
            loss = l.value.scalars[0]
            if i > 0 { phases.append([t1 - t0, t2 - t1, t3 - t2, t3 - t0].map { Double($0) / 1e9 }) }   // step 0 warms up
        }
        func median(_ k: Int) -> Double { let s = phases.map { $0[k] }.sorted(); return s.isEmpty ? 0 : s[s.count / 2] }
        forward = median(0); backward = median(1); optimizer = median(2); step = median(3)
    }
}

/// One profiled training step (issue 22 item 2): `OpProfile` over `loss` and its backward sweep, and the optimizer step
/// timed on its own, printed as `<bench>_profile` lines (one per op, largest total
/// first, with its share of the step) and one `<bench>_gflops` line: the step's GEMM-shaped FLOPs (linear, matmul,
/// conv2d, attention; forward + backward) over the whole step's time and over the time of those ops alone, beside
/// the sgemm figure measured in the same run at `sgemm` = (m, k, n).
func printStepProfile(bench: String, sgemm: (m: Int, k: Int, n: Int), loss: () -> Variable, optimizerStep: () -> Void) {
    OpProfile.start()
    let t0 = DispatchTime.now().uptimeNanoseconds
    loss().backward()
    let t1 = DispatchTime.now().uptimeNanoseconds
    optimizerStep()
    let t2 = DispatchTime.now().uptimeNanoseconds
    var table = OpProfile.stop()
    table["AdamW (optimizer step)"] = OpProfile.Entry(calls: 1, forwardSeconds: Double(t2 - t1) / 1e9)
    let step = Double(t2 - t0) / 1e9
    let charged = table.values.reduce(0) { $0 + $1.forwardSeconds + $1.backwardSeconds }
    for (op, e) in table.sorted(by: { $0.value.forwardSeconds + $0.value.backwardSeconds > $1.value.forwardSeconds + $1.value.backwardSeconds }) {
        let total = e.forwardSeconds + e.backwardSeconds
        print("{\"bench\":\"\(bench)_profile\",\"op\":\"\(op)\",\"calls\":\(e.calls),\"forward_s\":\(e.forwardSeconds),"
            + "\"backward_s\":\(e.backwardSeconds),\"share\":\(total / step)}")
    }
    let gemmOps = table.filter { $0.value.forwardFLOPs > 0 }
    let flops = gemmOps.values.reduce(0) { $0 + $1.forwardFLOPs + $1.backwardFLOPs }
    let gemmSeconds = gemmOps.values.reduce(0) { $0 + $1.forwardSeconds + $1.backwardSeconds }
    let sgemmGflops = measureSgemm(sgemm.m, sgemm.k, sgemm.n)
    print("{\"bench\":\"\(bench)_gflops\",\"step_s\":\(step),\"uncharged_s\":\(max(0, step - charged)),\"gemm_flops\":\(flops),"
        + "\"gflops\":\(flops / step / 1e9),\"gemm_ops_s\":\(gemmSeconds),\"gemm_ops_gflops\":\(flops / max(gemmSeconds, 1e-12) / 1e9),"
        + "\"sgemm_m\":\(sgemm.m),\"sgemm_k\":\(sgemm.k),\"sgemm_n\":\(sgemm.n),\"sgemm_gflops\":\(sgemmGflops),\"threads\":\(Threads.count)}")
}

/// GFLOP/s of one (m x k) x (k x n) sgemm through `Kernels.matmul`, the median of 7 after a warm-up.
func measureSgemm(_ m: Int, _ k: Int, _ n: Int) -> Double {
    let a = Tensor(shape: [m, k], scalars: (0..<(m * k)).map { Float(($0 * 7919) % 1000) / 1000 - 0.5 })
    let b = Tensor(shape: [k, n], scalars: (0..<(k * n)).map { Float(($0 * 104_729) % 1000) / 1000 - 0.5 })
    _ = Kernels.matmul(a, b)
    var times: [Double] = []
    for _ in 0..<7 {
        let t0 = DispatchTime.now().uptimeNanoseconds
        _ = Kernels.matmul(a, b)
        times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
    }
    return 2 * Double(m * k * n) / times.sorted()[3] / 1e9
}
