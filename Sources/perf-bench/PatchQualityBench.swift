import Dispatch
import Models
import PatchQuality
import Random
import TensorCore

/// Patch-quality throughput, one JSON line per figure: the SSL finetuning step (default ViT,
/// 32x32, batch 16, loss at block 7: two trained forwards + backward + a frozen forward) in
/// images/s, and quality maps (8x8 cells, width 192) in pairs/s.
func runPatchQualityBenches() {
    func seconds(_ body: () -> Void) -> Double {
        let t0 = DispatchTime.now().uptimeNanoseconds
        body()
        return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
    }
    func rounded(_ x: Double) -> Double { (x * 10).rounded() / 10 }
    guard let model = try? ViT(config: ViTConfig(), key: RNGKey(seed: 1)),
          let frozen = try? ViT(config: ViTConfig(), key: RNGKey(seed: 1)) else { preconditionFailure("default ViT config invalid") }
    let batch = 16, steps = 3
    var pixels = [Float](repeating: 0, count: batch * 3 * 32 * 32)
    pixels.withUnsafeMutableBufferPointer { RNGKey(seed: 2).fillUniform($0, low: -1, high: 1) }
    var config = SSLTrainingConfig()
    config.epochs = steps + 1; config.batchSize = batch; config.blocks = [7]
    let trainer = SSLTrainer(model: model, frozen: frozen, images: Tensor(shape: [batch, 3, 32, 32], scalars: pixels), config: config)
    trainer.trainStep()                                                      // warm-up
    let t = seconds { for _ in 0..<steps { trainer.trainStep() } } / Double(steps)
    print("{\"bench\":\"ssl_step\",\"config\":\"default\",\"res\":32,\"batch\":\(batch),\"images_per_s\":\(rounded(Double(batch) / t)),\"ms_per_step\":\(rounded(t * 1000))}")

    var s = RandomStream(seed: 3)
    let a = PatchFeatures(rows: 8, columns: 8, dim: 192, raw: s.normals(64 * 192))
    let b = PatchFeatures(rows: 8, columns: 8, dim: 192, raw: s.normals(64 * 192))
    let reps = 200
    let tq = seconds { for _ in 0..<reps { _ = QualityMaps(generated: a, reference: b) } } / Double(reps)
    print("{\"bench\":\"quality_maps\",\"cells\":64,\"dim\":192,\"pairs_per_s\":\(rounded(1 / tq))}")
}
