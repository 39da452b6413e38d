import Foundation
import Report
import Testing

// Lines in the exact formats printed by Sources/perf-bench (TensorBench's emit uses %.4g; UNetBench
// and GenerationBench interpolate Doubles), with build chatter and a failed bench among them.
private let lines = """
Building for production...
{"bench":"sgemm","m":64,"k":288,"n":1024,"calls":16,"threads":2,"seconds":0.003012,"gflops":25.07}
{"bench":"conv2d","pass":"forward","n":16,"cin":32,"cout":64,"res":32,"kernel":3,"threads":2,"seconds":0.004105,"gflops":18.39,"ratio_to_sgemm":0.7337}
not json at all
[1, 2, 3]
{"bench":"unet_train_step","impl":"swift","width":32,"batch":8,"res":32,"steps":5,"threads":2,"params":2034563,"median_step_s":0.412,"forward_s":0.131,"backward_s":0.262,"adamw_s":0.019,"peak_rss_mb":412.5,"loss":1.02}
{"bench":"unet_train_step_peer","impl":"jax","jax":"0.4.30","params":2034563,"median_step_s":0.355,"loss":1.01}
{"bench":"unet_train_step_ratio","ours_over_peer":1.161,"goal":0.5}
{"bench":"ddim_sample","steps":25,"cfg":true,"batch":8,"res":32,"images_per_s":0.77,"seconds":10.39}
{"bench":"ddim_sample","steps":25,"cfg":true,"batch":8,"res":32,"precision":"bf16","images_per_s":1.1,"seconds":7.3}
{"bench":"bf16_gemm","m":64,"k":576,"n":4096,"calls":1,"threads":2,"seconds":0.002,"gflops":151.2,"ratio_to_sgemm":1.62}
{"bench":"vit_forward","config":"default","res":32,"batch":64,"images_per_s":512.3,"ms_per_batch":124.9}
{"bench":"vit_train_step","impl":"swift","width":64,"depth":12,"heads":2,"mlp":256,"batch":32,"res":32,"steps":5,"threads":2,"params":608141,"median_step_s":0.5,"images_per_s":64.0,"forward_s":0.15,"backward_s":0.3,"adamw_s":0.05,"peak_rss_mb":300.0,"loss":2.6}
{"bench":"vit_train_step_peer","impl":"jax-xla-cpu","jax":"0.10.2","params":608141,"median_step_s":0.2,"images_per_s":160.0,"loss":2.6}
{"bench":"vit_train_step_ratio","ours_over_peer":2.5,"goal":0.5}
{"bench":"sample","setting":"before","scheduler":"ddim","steps":25,"batch":8,"precision":"fp32","reference":"coupled","images_per_s":0.9}
{"bench":"sample_batch","setting":"default","scheduler":"dpmpp-2m","steps":10,"batch":16,"precision":"bf16","reference":"keys","images_per_s":4.5}
{"bench":"sampling_goal","scheduler":"dpmpp-2m","steps":10,"precision":"bf16","batch":8,"images_per_s":4.2,"best_batch":16,"best_images_per_s":4.5,"over_before":4.67,"over_before_min":4.512,"over_before_max":4.8,"over_ddim_sample":3.8,"goal":4}
{"bench":"generation","error":"missing vocab"}
{"no_bench_key":1}
"""

@Test func perfEntriesFromRealPerfBenchLines() {
    let e = PerfEntry.parse(jsonLines: lines)
    func find(_ bench: String, _ unit: String) -> [PerfEntry] { e.filter { $0.bench == bench && $0.unit == unit } }
    #expect(find("sgemm", "GFLOP/s").map(\.value) == [25.07])
    #expect(find("conv2d", "GFLOP/s").map(\.value) == [18.39])
    #expect(find("conv2d", "x sgemm").map(\.value) == [0.7337])
    #expect(find("conv2d", "GFLOP/s").first?.label.contains("forward 32->64 @32") == true)
    #expect(find("unet_train_step", "s").map(\.value) == [0.412])
    #expect(find("unet_train_step", "MB").map(\.value) == [412.5])
    #expect(find("unet_train_step_peer", "s").map(\.value) == [0.355])
    #expect(find("unet_train_step_ratio", "x").map(\.value) == [1.161])
    #expect(find("ddim_sample", "images/s").map(\.value) == [0.77, 1.1])
    #expect(find("ddim_sample", "images/s").first?.label.contains("CFG") == true)
    #expect(find("ddim_sample", "images/s").last?.label.hasSuffix("BF16 products") == true)
    #expect(find("bf16_gemm", "GFLOP/s").map(\.value) == [151.2] && find("bf16_gemm", "x sgemm").map(\.value) == [1.62])
    #expect(find("vit_forward", "images/s").map(\.value) == [512.3])
    #expect(find("vit_train_step", "s").map(\.value) == [0.5] && find("vit_train_step", "images/s").map(\.value) == [64.0])
    #expect(find("vit_train_step", "s").first?.label == "ViT train step (ours, swift), width 64 x depth 12, batch 32 @32")
    #expect(find("vit_train_step_peer", "s").map(\.value) == [0.2])
    #expect(find("vit_train_step_ratio", "x").map(\.value) == [2.5] && find("vit_train_step_ratio", "x").first?.label.contains("goal 0.5") == true)
    #expect(find("sample", "images/s").map(\.value) == [0.9] && find("sample_batch", "images/s").map(\.value) == [4.5])
    #expect(find("sample", "images/s").first?.label == "sampling (shipped generator, before): ddim 25 + CFG, reference coupled every step, batch 8, FP32")
    #expect(find("sample_batch", "images/s").first?.label.contains("reference keys once, batch 16, BF16") == true)
    #expect(find("sampling_goal", "x").map(\.value) == [4.67, 3.8])
    #expect(find("sampling_goal", "x").first?.label == "sampling dpmpp-2m 10, BF16, batch 8 / the bench's sampler before (goal 4x; repetitions 4.51-4.80)")
    #expect(find("generation", "error").first?.label.contains("missing vocab") == true)
    #expect(e.count == 21)
}

@Test func perfParsingSkipsEverythingThatIsNotABenchObject() {
    #expect(PerfEntry.parse(jsonLines: "").isEmpty)
    #expect(PerfEntry.parse(jsonLines: "{\n}\n{\"bench\": 3}\n{broken").isEmpty)
}

/// The fixture's performance entries, written out by hand from its perf-bench lines (ReportFixture.perfLines) and
/// the label formats the report promises: one entry per figure, in line order.
@Test func fixturePerformanceIsParsedFromItsLines() {
    let want = [
        PerfEntry(bench: "sgemm", label: "sgemm 64x288x1024, 16 call(s), 2 threads", value: 25.07, unit: "GFLOP/s"),
        PerfEntry(bench: "sgemm", label: "sgemm 64x288x16384, 1 call(s), 2 threads", value: 27.85, unit: "GFLOP/s"),
        PerfEntry(bench: "conv2d", label: "conv2d forward 32->64 @32, batch 16, 2 threads", value: 18.39, unit: "GFLOP/s"),
        PerfEntry(bench: "conv2d", label: "conv2d forward 32->64 @32, batch 16, 2 threads / sgemm", value: 0.7337, unit: "x sgemm"),
        PerfEntry(bench: "conv2d", label: "conv2d backward_data 32->64 @32, batch 16, 2 threads", value: 15.66, unit: "GFLOP/s"),
        PerfEntry(bench: "conv2d", label: "conv2d backward_data 32->64 @32, batch 16, 2 threads / sgemm", value: 0.6249,
                  unit: "x sgemm"),
        PerfEntry(bench: "unet_train_step", label: "U-Net train step (ours, swift), batch 8 @32", value: 0.412, unit: "s"),
        PerfEntry(bench: "unet_train_step", label: "U-Net train step (ours, swift), batch 8 @32 peak RSS", value: 412.5, unit: "MB"),
        PerfEntry(bench: "unet_train_step_peer", label: "U-Net train step (peer: jax 0.4.30)", value: 0.355, unit: "s"),
        PerfEntry(bench: "unet_train_step_ratio", label: "U-Net step time ours / peer (goal 0.5)", value: 1.161, unit: "x"),
        PerfEntry(bench: "ddim_sample", label: "DDIM 25 steps + CFG, batch 8 @32", value: 0.77, unit: "images/s"),
        PerfEntry(bench: "conv_loop_peak_rss", label: "peak RSS after a conv forward/backward loop", value: 301.2, unit: "MB"),
    ]
    let got = ReportFixture.make().performance
    #expect(got.count == want.count)
    for (g, w) in zip(got, want) { #expect(g == w) }
}
