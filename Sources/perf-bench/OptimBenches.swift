import Checkpoint
import Dispatch
import Foundation
import Optim
import Random

/// Throughput of the Random, Optim and Checkpoint hot paths, one JSON line per figure.
func runOptimBenches() {
    func seconds(_ body: () -> Void) -> Double {
        let t0 = DispatchTime.now().uptimeNanoseconds
        body()
        return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
    }
    func emit(_ fields: [(String, Any)]) {
        let body = fields.map { key, value in
            value is String ? "\"\(key)\":\"\(value)\"" : "\"\(key)\":\(value)"
        }
        print("{" + body.joined(separator: ",") + "}")
    }

    let n = 1 << 20
    var buffer = [Float](repeating: 0, count: n)
    let key = RNGKey(seed: 1)
    for threads in [1, 2] {
        for (name, kind) in [("uniform", FillKind.uniform(low: 0, high: 1)), ("normal", .normal(mean: 0, std: 1))] {
            let t = buffer.withUnsafeMutableBufferPointer { b in
                seconds { key.parallelFill(b, kind: kind, threads: threads) }
            }
            emit([("bench", "philox_fill"), ("dist", name), ("n", n), ("threads", threads),
                  ("mvalues_per_s", (Double(n) / t / 1e6).rounded())])
        }
    }

    var params: [String: [Float]] = ["w": buffer]
    let grads: [String: [Float]] = ["w": [Float](repeating: 0.01, count: n)]
    var adam = AdamW(learningRate: 1e-3)
    adam.step(&params, gradients: grads)
    let tAdam = seconds { for _ in 0..<5 { adam.step(&params, gradients: grads) } } / 5
    emit([("bench", "adamw_step"), ("n", n), ("mparams_per_s", (Double(n) / tAdam / 1e6).rounded())])

    let file = SafeTensorsFile(tensors: ["a": TensorData(shape: [n], values: buffer),
                                         "b": TensorData(shape: [n], values: buffer, dtype: .f16)])
    var encoded = Data()
    let tEnc = seconds { encoded = SafeTensors.encode(file) }
    let tDec = seconds { _ = try? SafeTensors.parse(encoded, path: "bench") }
    let mb = Double(encoded.count) / 1e6
    emit([("bench", "safetensors_encode"), ("mb", mb), ("mb_per_s", (mb / tEnc).rounded())])
    emit([("bench", "safetensors_parse"), ("mb", mb), ("mb_per_s", (mb / tDec).rounded())])
}
