import Autograd
import Dispatch
import Foundation
import TensorCore

/// One profiled training step (issue 22 item 2): `OpProfile` over `lossAndBackward` (the forward, then the backward
/// sweep) and the optimizer step timed on its own, printed as `<bench>_profile` lines (one per op, largest total
/// first, with its share of the step) and one `<bench>_gflops` line: the step's GEMM-shaped FLOPs (linear, matmul,
/// conv2d, attention; forward + backward) over the whole step's time and over the time of those ops alone, beside
/// the sgemm figure measured in the same run at `sgemm` = (m, k, n).
func printStepProfile(bench: String, sgemm: (m: Int, k: Int, n: Int), lossAndBackward: () -> Void, optimizerStep: () -> Void) {
    OpProfile.start()
    let t0 = DispatchTime.now().uptimeNanoseconds
    lossAndBackward()
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
