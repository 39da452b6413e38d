import Dispatch
import Foundation
import TensorCore

// TensorCore benchmarks: sgemm and conv2d GFLOP/s at the U-Net's im2col shapes, the conv/sgemm
// ratio, and peak RSS after a conv-heavy forward+backward loop. One JSON object per line.
// Each figure is the median of 7 interleaved timed runs after one warm-up run.

/// Median time of each body over `reps` rounds; in each round every body runs once, in order.
private func interleavedMedians(reps: Int = 7, _ bodies: [() -> Void]) -> [Double] {
    for body in bodies { body() }  // warm-up
    var times = [[Double]](repeating: [], count: bodies.count)
    for _ in 0..<reps {
        for (i, body) in bodies.enumerated() {
            let t0 = DispatchTime.now().uptimeNanoseconds
            body()
            times[i].append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        }
    }
    return times.map { $0.sorted()[reps / 2] }
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

/// The process's peak resident set size in MB (getrusage's `ru_maxrss`, whose unit differs by platform).
func peakRSSMegabytes() -> Double {
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
        let a = randomTensor([m, k], seed: 1), b = randomTensor([k, nImg], seed: 2)
        let bBatch = randomTensor([k, batch * nImg], seed: 2)
        let x = randomTensor([batch, cin, res, res], seed: 3), w = randomTensor([cout, cin, 3, 3], seed: 4)
        let bias = randomTensor([cout], seed: 5), g = randomTensor([batch, cout, res, res], seed: 6)
        // The machine is shared, so the candidates are timed interleaved, rep by rep, and each figure
        // is a median: a load spike then hits sgemm and conv alike and the ratio stays meaningful.
        var runs: [(String, () -> Void)] = [
            ("sgemm_per_image", { for _ in 0..<batch { _ = Kernels.matmul(a, b) } }),
            ("sgemm_batched", { _ = Kernels.matmul(a, bBatch) }),
            ("forward", { _ = Kernels.conv2d(x, weight: w, bias: bias, stride: (1, 1), padding: (1, 1)) }),
            ("backward_data", { _ = Kernels.conv2dBackwardData(g, weight: w, inputShape: x.shape, stride: (1, 1), padding: (1, 1)) }),
            ("backward_weight", { _ = Kernels.conv2dBackwardWeight(g, input: x, weightShape: w.shape, stride: (1, 1), padding: (1, 1)) }),
            // Training's pair: both gradients from one call (Winograd: one transform of g serves both).
            ("backward_both", { _ = Kernels.conv2dBackward(g, input: x, weight: w, padding: (1, 1), data: true, weightGradient: true) }),
        ]
        // The same products with BF16 operands (GEMMPrecision.bf16: CBF16's kernel), timed in the same rounds.
        if GEMMPrecision.bf16Available {
            runs += [
                ("bf16_batched", { GEMMPrecision.with(.bf16) { _ = Kernels.matmul(a, bBatch) } }),
                ("forward_bf16", { GEMMPrecision.with(.bf16) { _ = Kernels.conv2d(x, weight: w, bias: bias, stride: (1, 1), padding: (1, 1)) } }),
            ]
        }
        let t = interleavedMedians(runs.map(\.1))
        let flops = 2 * Double(batch * m * k * nImg)  // identical for every entry
        let sgemmGflops = flops / t[0] / 1e9
        emit([("bench", "sgemm"), ("m", m), ("k", k), ("n", nImg), ("calls", batch), ("threads", threads),
              ("seconds", t[0]), ("gflops", sgemmGflops)])
        emit([("bench", "sgemm"), ("m", m), ("k", k), ("n", batch * nImg), ("calls", 1), ("threads", threads),
              ("seconds", t[1]), ("gflops", flops / t[1] / 1e9)])
        let bf16GEMM = runs.firstIndex { $0.0 == "bf16_batched" }
        if let i = bf16GEMM {
            emit([("bench", "bf16_gemm"), ("m", m), ("k", k), ("n", batch * nImg), ("calls", 1), ("threads", threads),
                  ("seconds", t[i]), ("gflops", flops / t[i] / 1e9), ("ratio_to_sgemm", t[1] / t[i])])
        }
        for i in 2..<runs.count where i != bf16GEMM {
            let gflops = flops / t[i] / 1e9
            emit([("bench", "conv2d"), ("pass", runs[i].0), ("n", batch), ("cin", cin), ("cout", cout), ("res", res),
                  ("kernel", 3), ("threads", threads), ("seconds", t[i]), ("gflops", gflops),
                  ("ratio_to_sgemm", gflops / sgemmGflops)])
        }
    }
    // Memory-bound kernels of a ResnetBlock at the 32x32 level: effective GB/s (bytes read + written).
    let act = randomTensor([batch, 64, 32, 32], seed: 9), gamma = randomTensor([64], seed: 10)
    let gn = Kernels.groupNorm(act, groups: 32, weight: gamma, bias: gamma)
    let bytes = Double(act.count * 4)
    let memRuns: [(String, Double, () -> Void)] = [
        ("silu", 2 * bytes, { _ = Kernels.silu(act) }),
        ("add", 3 * bytes, { _ = Kernels.add(act, act) }),
        ("group_norm_forward", 2 * bytes, { _ = Kernels.groupNorm(act, groups: 32, weight: gamma, bias: gamma) }),
        ("group_norm_backward", 4 * bytes, {
            _ = Kernels.groupNormBackward(act, input: act, mean: gn.mean, rstd: gn.rstd, groups: 32, weight: gamma, hasBias: true)
        }),
    ]
    let mt = interleavedMedians(memRuns.map(\.2))
    for (i, run) in memRuns.enumerated() {
        emit([("bench", "memory_kernel"), ("kernel", run.0), ("shape", "16x64x32x32"), ("threads", threads),
              ("seconds", mt[i]), ("gbytes_per_s", run.1 / mt[i] / 1e9)])
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
