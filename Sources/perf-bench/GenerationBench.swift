import Dispatch
import Foundation
import Generation
import Models
import Random
import TensorCore
import Training
import World

/// Generation and pretraining figures, at the shipped default sizes (pipelines/default.toml):
/// - `pretrain_unet_step`: one UNetDenoisingTask step (world batch of 16 at 32x32, frozen CLIP text
///   encoder, xs U-Net [32, 64, 64] with 1 resnet per level, AdamW): seconds per step and the process's
///   peak RSS after it (ru_maxrss: the peak so far in this perf-bench process).
/// - `ddim_sample`: DDIM 25 steps with CFG (conditional + null batched in one pass), the full generator
///   (text encoder, CLIP image tower 96 x 6, resampler, U-Net), batch 8: images per second.
/// Then `runSamplingBenches`: the shipped generator as the bench samples it, against `ddim_sample` FP32.
/// Env: GEN_BENCH_STEPS (training steps timed, default 3).
func runGenerationBenches() {
    let steps = Int(ProcessInfo.processInfo.environment["GEN_BENCH_STEPS"] ?? "") ?? 3
    do {
        let text = TextEncoderConfig(vocabSize: 128, maxLength: 12, width: 128, depth: 2, heads: 4, mlpDim: 512)
        let vision = ViTConfig(imageSize: 32, patchSize: 4, width: 96, depth: 6, heads: 3, mlpDim: 384)
        let unetCfg = UNetConfig(blockOutChannels: [32, 64, 64], layersPerBlock: 1, crossAttentionDim: 128, heads: 4)
        let k = RNGKey(seed: 1)
        let te = try TextEncoder(config: text, key: k.fold(in: "text"))
        let unet = try UNet2DConditionModel(config: unetCfg, key: k.fold(in: "unet"))
        let task = UNetDenoisingTask(unet: unet, textEncoder: te, data: WorldDataConfig(), seed: 1, batchSize: 16)
        let trainer = Trainer(task: task, settings: TrainSettings(steps: steps + 1, batchSize: 16, learningRate: 1e-4, seed: 1))
        try trainer.trainStep()                                           // warm-up
        let t0 = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<steps { try trainer.trainStep() }
        let perStep = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9 / Double(steps)
        print("{\"bench\":\"pretrain_unet_step\",\"batch\":16,\"res\":32,\"channels\":[32,64,64],\"layers_per_block\":1,"
              + "\"s_per_step\":\(perStep),\"peak_rss_mb\":\(peakRSSMegabytes())}")

        let vit = try ViT(config: vision, key: k.fold(in: "vit"))
        let r = try Resampler(config: ResamplerConfig(embeddingDim: 96), key: k.fold(in: "resampler"))
        let g = Generator(textEncoder: te, imageEncoder: ViTReferenceEncoder(vit: vit, layer: max(1, vision.depth - 1)), resampler: r, unet: unet)
        let batch = 8
        let refs = try WorldData.references((0..<batch).map { Subject(category: ObjectCategory.allCases[$0 % 13], instance: 9) }, resolution: 32)
        let prompts = Array(repeating: "a mug in the forest", count: batch)
        // FP32, then BF16 products (GEMMPrecision.bf16) when this CPU has them: the same chain, alternated 3 times, medians.
        let precisions: [SamplingPrecision] = GEMMPrecision.bf16Available ? [.fp32, .bf16] : [.fp32]
        var times = [[Double]](repeating: [], count: precisions.count)
        for _ in 0..<3 {
            for (i, p) in precisions.enumerated() {
                let s0 = DispatchTime.now().uptimeNanoseconds
                _ = try Sampler.sample(g, prompts: prompts, references: refs, seeds: (0..<UInt64(batch)).map { $0 },
                                       options: SamplingOptions(steps: 25, guidanceScale: 5, precision: p))
                times[i].append(Double(DispatchTime.now().uptimeNanoseconds - s0) / 1e9)
            }
        }
        for (i, p) in precisions.enumerated() {
            let secs = times[i].sorted()[1]
            print("{\"bench\":\"ddim_sample\",\"steps\":25,\"cfg\":true,\"batch\":\(batch),\"res\":32,\"precision\":\"\(p.rawValue)\","
                  + "\"images_per_s\":\(Double(batch) / secs),\"seconds\":\(secs)}")
        }
        runSamplingBenches(issueLineSeconds: times[0].sorted()[1], issueLineBatch: batch)
    } catch {
        print("{\"bench\":\"generation\",\"error\":\"\(error)\"}")
    }
}
