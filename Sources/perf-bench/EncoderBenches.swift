import Autograd
import Dispatch
import Models
import Random
import TensorCore

/// Encoder throughput (MODELS.md default configs), one JSON line per figure:
/// ViT forward (no grad) and forward+backward images/s at 32x32, batch 64; text encoder prompts/s.
func runEncoderBenches() {
    func seconds(_ body: () -> Void) -> Double {
        let t0 = DispatchTime.now().uptimeNanoseconds
        body()
        return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
    }
    func emit(_ fields: [(String, Any)]) {
        let body = fields.map { key, value in value is String ? "\"\(key)\":\"\(value)\"" : "\"\(key)\":\(value)" }
        print("{" + body.joined(separator: ",") + "}")
    }
    func rounded(_ x: Double) -> Double { (x * 10).rounded() / 10 }

    let batch = 64, reps = 3
    guard let vit = try? ViT(config: ViTConfig(), key: RNGKey(seed: 1)) else { preconditionFailure("default ViT config invalid") }
    let key = RNGKey(seed: 2)
    var pixels = [Float](repeating: 0, count: batch * 3 * 32 * 32)
    pixels.withUnsafeMutableBufferPointer { key.fillUniform($0, low: -1, high: 1) }
    let images = Variable(Tensor(shape: [batch, 3, 32, 32], scalars: pixels))
    _ = withNoGrad { vit.forward(images, taps: [1, 4, 7, 10, 12]) }                 // warm-up
    let tFwd = seconds { for _ in 0..<reps { _ = withNoGrad { vit.forward(images, taps: [1, 4, 7, 10, 12]) } } } / Double(reps)
    emit([("bench", "vit_forward"), ("config", "default"), ("res", 32), ("batch", batch),
          ("images_per_s", rounded(Double(batch) / tFwd)), ("ms_per_batch", rounded(tFwd * 1000))])
    let tTrain = seconds {
        vit.zeroGrad()
        vit.forward(images).final.mean().backward()
    }
    emit([("bench", "vit_forward_backward"), ("config", "default"), ("res", 32), ("batch", batch),
          ("images_per_s", rounded(Double(batch) / tTrain)), ("ms_per_batch", rounded(tTrain * 1000))])

    guard let text = try? TextEncoder(config: TextEncoderConfig(), key: RNGKey(seed: 3)) else { preconditionFailure("default text config invalid") }
    let ids: [[Int32]] = (0..<batch).map { i in
        let words: [Int32] = [Int32(4 + i % 50), Int32(5 + i % 40)]
        return [2] + words + [3] + [Int32](repeating: 0, count: 8)
    }
    _ = withNoGrad { text.forward(ids) }
    let tText = seconds { for _ in 0..<reps { _ = withNoGrad { text.forward(ids) } } } / Double(reps)
    emit([("bench", "text_encoder_forward"), ("config", "default"), ("batch", batch),
          ("prompts_per_s", rounded(Double(batch) / tText))])
}
