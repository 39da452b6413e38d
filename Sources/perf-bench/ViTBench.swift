import Autograd
import Foundation
import Models
import NN
import Optim
import Random
import TensorCore

/// ViT training step (issue 22 item 3) at pretrain-vit's shipped shape (data/checkpoints/vit.json: 32x32, patch 4,
/// width 64, depth 12, 2 heads, MLP 256, 13-class head on the class token), batch 32: forward, cross-entropy backward,
/// AdamW over every parameter; then the JAX/XLA peer of the same ViT (scripts/peers/vit_step_jax.py through
/// scripts/bench-peer) in the same invocation, and the ratio ours / peer (goal <= 0.5). Env: VIT_BENCH_STEPS
/// (default 5), VIT_BENCH_PEER=0 skips the peer. `perf-bench vit` runs only this.
func runViTBenches() {
    let env = ProcessInfo.processInfo.environment
    let steps = Int(env["VIT_BENCH_STEPS"] ?? "") ?? 5
    let batch = 32, res = 32
    let config = ViTConfig(imageSize: res, patchSize: 4, width: 64, depth: 12, heads: 2, mlpDim: 256, classes: 13)
    guard let vit = try? ViT(config: config, key: RNGKey(seed: 0)) else {
        print("{\"bench\":\"vit_train_step\",\"error\":\"config rejected\"}")
        return
    }
    let k = RNGKey(seed: 1)
    var pixels = [Float](repeating: 0, count: batch * 3 * res * res)
    pixels.withUnsafeMutableBufferPointer { k.fillUniform($0, low: -1, high: 1) }
    let x = Variable(Tensor(shape: [batch, 3, res, res], scalars: pixels))
    let labels = (0..<batch).map { Int32($0 % 13) }
    var adam = AdamW(learningRate: 5e-4, weightDecay: 1e-2)
    let loss = { crossEntropyLoss(vit.logits(x), targets: labels) }
    let optimizerStep = { vit.step(&adam); vit.zeroGrad() }
    let times = StepTimes(steps: steps, loss: loss, optimizerStep: optimizerStep)
    let ours = times.step
    print("{\"bench\":\"vit_train_step\",\"impl\":\"swift\",\"width\":64,\"depth\":12,\"heads\":2,\"mlp\":256,\"batch\":\(batch),"
        + "\"res\":\(res),\"steps\":\(steps),\"threads\":\(Threads.count),\"params\":\(vit.parameterCount),"
        + "\"median_step_s\":\(ours),\"images_per_s\":\(Double(batch) / ours),\"forward_s\":\(times.forward),"
        + "\"backward_s\":\(times.backward),\"adamw_s\":\(times.optimizer),"
        + "\"peak_rss_mb\":\(peakRSSMegabytes()),\"loss\":\(times.loss)}")

    // Per op, and the GEMM FLOP rate beside sgemm's at the MLP's fc1 shape (batch x 65 tokens, 64 -> 256).
    printStepProfile(bench: "vit_train_step", sgemm: (batch * 65, 64, 256), loss: loss, optimizerStep: optimizerStep)

    guard env["VIT_BENCH_PEER"] != "0" else { return }
    comparePeer(bench: "vit_train_step", ours: ours, goal: 0.5,
                arguments: ["--width", "64", "--depth", "12", "--heads", "2", "--mlp", "256", "--batch", "\(batch)", "--res", "\(res)",
                            "--steps", "\(steps)"],
                peerScript: "scripts/peers/vit_step_jax.py", batch: batch)
}
