import Autograd
import Dispatch
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
    var phases: [[Double]] = []
    var loss: Float = 0
    for i in 0...steps {
        let t0 = DispatchTime.now().uptimeNanoseconds
        let l = mseLoss(unet.forward(x, timesteps: t, text: text, imageTokens: ip, ipScale: 1), eps)
        let t1 = DispatchTime.now().uptimeNanoseconds
        l.backward()
        let t2 = DispatchTime.now().uptimeNanoseconds
        unet.step(&adam)
        unet.zeroGrad()
        let t3 = DispatchTime.now().uptimeNanoseconds
        loss = l.value.scalars[0]
        if i > 0 { phases.append([t1 - t0, t2 - t1, t3 - t2, t3 - t0].map { Double($0) / 1e9 }) }   // step 0 warms up
    }
    func median(_ v: [Double]) -> Double { let s = v.sorted(); return s.isEmpty ? 0 : s[s.count / 2] }
    let ours = median(phases.map { $0[3] })
    print("{\"bench\":\"unet_train_step\",\"impl\":\"swift\",\"width\":32,\"batch\":\(batch),\"res\":\(res),"
        + "\"steps\":\(steps),\"threads\":\(Threads.count),\"params\":\(unet.parameterCount),"
        + "\"median_step_s\":\(ours),\"forward_s\":\(median(phases.map { $0[0] })),"
        + "\"backward_s\":\(median(phases.map { $0[1] })),\"adamw_s\":\(median(phases.map { $0[2] })),"
        + "\"peak_rss_mb\":\(peakRSSMegabytes()),\"loss\":\(loss)}")

    // Where the step's time goes, per op, and its GEMM FLOP rate beside sgemm's at the 64 -> 64 level's im2col shape.
    printStepProfile(bench: "unet_train_step", sgemm: (64, 576, batch * 256), lossAndBackward: {
        mseLoss(unet.forward(x, timesteps: t, text: text, imageTokens: ip, ipScale: 1), eps).backward()
    }, optimizerStep: {
        unet.step(&adam)
        unet.zeroGrad()
    })

    guard env["UNET_BENCH_PEER"] != "0",
          let obj = runPeer(bench: "unet_train_step_peer", arguments: ["--width", "32", "--batch", "\(batch)", "--res", "\(res)", "--steps", "\(steps)"]),
          let peer = obj["median_step_s"] as? Double else { return }
    print("{\"bench\":\"unet_train_step_peer\",\"impl\":\"\(obj["peer"] ?? "jax")\",\"jax\":\"\(obj["jax"] ?? "?")\","
        + "\"params\":\(obj["params"] ?? 0),\"median_step_s\":\(peer),\"loss\":\(obj["loss"] ?? 0)}")
    print("{\"bench\":\"unet_train_step_ratio\",\"ours_over_peer\":\(ours / peer),\"goal\":0.35}")
}
