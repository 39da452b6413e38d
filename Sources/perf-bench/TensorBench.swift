import Dispatch
import Foundation
import TensorCore

// TensorCore benchmarks: sgemm and conv2d GFLOP/s at the U-Net's im2col shapes, the conv/sgemm
// ratio, and peak RSS after a conv-heavy forward+backward loop. One JSON object per line.
// Each figure is the median of `reps` timed runs after one warm-up run.

private func medianSeconds(reps: Int = 5, _ body: () -> Void) -> Double {
    body()  // warm-up (allocations, BLAS thread start)
    var times: [Double] = []
    for _ in 0..<reps {
        let t0 = DispatchTime.now().uptimeNanoseconds
        body()
        times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
    }
    return times.sorted()[reps / 2]
}

private func emit(_ fields: [(String, Any)]) {
    let parts = fields.map { key, value -> String in
        switch value {
        case let s as String: return "\"\(key)\":\"\(s)\""
        case let d as Double: return "\"\(key)\":\(String(format: "%.4g", d))"
        default: return "\"\(key)\":\(value)"
        }
    }
    print("{" + parts.joined(separator: ",") + "}")
}

private func randomTensor(_ shape: [Int], seed: UInt64) -> Tensor {
    var s = seed
    let n = shape.reduce(1, *)
    var v = [Float](repeating: 0, count: n)
    for i in 0..<n {
        s = s &* 6364136223846793005 &+ 1442695040888963407
        v[i] = Float(s >> 40) / Float(1 << 24) - 0.5
    }
    return Tensor(shape: shape, scalars: v)
}

private func peakRSSMegabytes() -> Double {
    var usage = rusage()
    #if os(Linux)
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return Double(usage.ru_maxrss) / 1024  // Linux reports kilobytes
    #else
    getrusage(RUSAGE_SELF, &usage)
    return Double(usage.ru_maxrss) / (1024 * 1024)  // Darwin reports bytes
    #endif
}

func runTensorBenches() {
    let threads: Int
    do { threads = try Threads.configureFromEnvironment() } catch {
        emit([("bench", "error"), ("message", "\(error)")])
        return
    }
    let batch = 16
    // (Cin, Cout, resolution): U-Net levels of the xs and default configs at 32x32 images.
    let shapes = [(32, 32, 32), (32, 64, 32), (64, 64, 16), (64, 128, 16), (128, 128, 8)]
    for (cin, cout, res) in shapes {
        let m = cout, k = cin * 9, nImg = res * res
        // sgemm at the per-image im2col shape and at the whole-batch shape.
        var sgemmPerImage = 0.0
        for n in [nImg, batch * nImg] {
            let a = randomTensor([m, k], seed: 1), b = randomTensor([k, n], seed: 2)
            let t = medianSeconds { _ = Kernels.matmul(a, b) }
            let gflops = 2 * Double(m * k * n) / t / 1e9
            if n == nImg { sgemmPerImage = gflops }
            emit([("bench", "sgemm"), ("m", m), ("k", k), ("n", n), ("threads", threads), ("seconds", t), ("gflops", gflops)])
        }
        // conv2d 3x3, stride 1, padding 1, batch 16: forward, backward data, backward weight.
        let x = randomTensor([batch, cin, res, res], seed: 3), w = randomTensor([cout, cin, 3, 3], seed: 4)
        let bias = randomTensor([cout], seed: 5), g = randomTensor([batch, cout, res, res], seed: 6)
        let flops = 2 * Double(batch * cout * cin * 9 * nImg)
        let tf = medianSeconds { _ = Kernels.conv2d(x, weight: w, bias: bias, stride: (1, 1), padding: (1, 1)) }
        let td = medianSeconds { _ = Kernels.conv2dBackwardData(g, weight: w, inputShape: x.shape, stride: (1, 1), padding: (1, 1)) }
        let tw = medianSeconds { _ = Kernels.conv2dBackwardWeight(g, input: x, weightShape: w.shape, stride: (1, 1), padding: (1, 1)) }
        for (pass, t) in [("forward", tf), ("backward_data", td), ("backward_weight", tw)] {
            let gflops = flops / t / 1e9
            emit([("bench", "conv2d"), ("pass", pass), ("n", batch), ("cin", cin), ("cout", cout), ("res", res),
                  ("threads", threads), ("seconds", t), ("gflops", gflops), ("ratio_to_sgemm", gflops / sgemmPerImage)])
        }
    }
    // Peak RSS after a conv-heavy forward + backward loop (two 64-channel convs at 32x32, batch 16).
    let x = randomTensor([batch, 64, 32, 32], seed: 7), w = randomTensor([64, 64, 3, 3], seed: 8)
    let t0 = DispatchTime.now().uptimeNanoseconds
    for _ in 0..<5 {
        let y = Kernels.conv2d(x, weight: w, bias: nil, stride: (1, 1), padding: (1, 1))
        let z = Kernels.conv2d(Kernels.silu(y), weight: w, bias: nil, stride: (1, 1), padding: (1, 1))
        let dz = Kernels.conv2dBackwardData(z, weight: w, inputShape: y.shape, stride: (1, 1), padding: (1, 1))
        _ = Kernels.conv2dBackwardWeight(z, input: y, weightShape: w.shape, stride: (1, 1), padding: (1, 1))
        _ = Kernels.conv2dBackwardData(Kernels.siluBackward(dz, input: y), weight: w, inputShape: x.shape, stride: (1, 1), padding: (1, 1))
    }
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
    emit([("bench", "conv_loop_peak_rss"), ("iterations", 5), ("seconds", seconds), ("peak_rss_mb", peakRSSMegabytes())])
}
