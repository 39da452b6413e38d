import Autograd
import Foundation
import Models
import NN
import Optim
import Random
import TensorCore

/// U-Net training step (forward, MSE backward, AdamW over every parameter) at the peer's setting:
/// xs channels [32, 64, 64], batch 16, 32x32, text [16, 12, 128], image tokens [16, 8, 128],
/// timesteps 0, 50, ...; then the JAX/XLA peer (scripts/bench-peer) in the same invocation, and
/// the ratio ours / peer (issue 22 goal <= 0.35; the first wave's was 0.5). Env: UNET_BENCH_STEPS (default 5), UNET_BENCH_PEER=0 skips
/// the peer. `perf-bench unet` runs only this (main.swift): a cheap before/after check on a shared machine.
func runUNetBenches() {
    runUNetTrainStep()
}

private func runUNetTrainStep() {
    let env = ProcessInfo.processInfo.environment
    let steps = Int(env["UNET_BENCH_STEPS"] ?? "") ?? 5
    let batch = 16, res = 32
    guard let unet = try? UNet2DConditionModel(config: .xs, key: RNGKey(seed: 0)) else {
        print("{\"bench\":\"unet_train_step\",\"error\":\"xs config rejected\"}")
        return
    }
    let k = RNGKey(seed: 1)
    let x = Variable(Init.normal([batch, 3, res, res], key: k.fold(in: "x")))
    let text = Variable(Init.normal([batch, 12, 128], key: k.fold(in: "text")))
    let ip = Variable(Init.normal([batch, 8, 128], key: k.fold(in: "ip")))
    let eps = Variable(Init.normal([batch, 3, res, res], key: k.fold(in: "eps")))
    let t = (0..<batch).map { $0 * 50 }
    var adam = AdamW(learningRate: 1e-4, weightDecay: 1e-2)
    let loss = { mseLoss(unet.forward(x, timesteps: t, text: text, imageTokens: ip, ipScale: 1), eps) }
    let optimizerStep = { unet.step(&adam); unet.zeroGrad() }
    let times = StepTimes(steps: steps, loss: loss, optimizerStep: optimizerStep)
    let ours = times.step
    print("{\"bench\":\"unet_train_step\",\"impl\":\"swift\",\"width\":32,\"batch\":\(batch),\"res\":\(res),"
        + "\"steps\":\(steps),\"threads\":\(Threads.count),\"params\":\(unet.parameterCount),"
        + "\"median_step_s\":\(ours),\"forward_s\":\(times.forward),"
        + "\"backward_s\":\(times.backward),\"adamw_s\":\(times.optimizer),"
        + "\"peak_rss_mb\":\(peakRSSMegabytes()),\"loss\":\(times.loss)}")

    // The same step with BF16 products (mixed precision: FP32 weights, gradients and optimizer; GEMMPrecision.bf16).
    if GEMMPrecision.bf16Available {
        let bf = GEMMPrecision.with(.bf16) { StepTimes(steps: steps, loss: loss, optimizerStep: optimizerStep) }
        print("{\"bench\":\"unet_train_step_bf16\",\"impl\":\"swift\",\"batch\":\(batch),\"res\":\(res),\"steps\":\(steps),"
            + "\"median_step_s\":\(bf.step),\"forward_s\":\(bf.forward),\"backward_s\":\(bf.backward),\"fp32_over_bf16\":\(ours / bf.step),"
            + "\"loss\":\(bf.loss)}")
    }

    // Where the step's time goes, per op, and its GEMM FLOP rate beside sgemm's at the 64 -> 64 level's im2col shape.
    printStepProfile(bench: "unet_train_step", sgemm: (64, 576, batch * 256), loss: loss, optimizerStep: optimizerStep)

    guard env["UNET_BENCH_PEER"] != "0" else { return }
    comparePeer(bench: "unet_train_step", ours: ours, goal: 0.35,
                arguments: ["--width", "32", "--batch", "\(batch)", "--res", "\(res)", "--steps", "\(steps)"])
}
