import ArgumentParser

/// Benchmarks, one JSON object per line on stdout. Run by `make perf`; never part of the tests.
struct PerfBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "perf-bench",
        abstract: "Benchmarks as JSON lines: kernels vs sgemm, U-Net and ViT steps vs their JAX peers, rendering, manifest, sampling.",
        discussion: "`make perf` runs them all and saves runs/perf/perf-bench.jsonl for the report. Environment: "
            + "UNET_BENCH_STEPS (default 5) and UNET_BENCH_PEER=0 (skip the peer) for the U-Net step, VIT_BENCH_STEPS and "
            + "VIT_BENCH_PEER for the ViT step, GEN_BENCH_STEPS "
            + "(default 3) for sampling, SAMPLE_BENCH_CHECKPOINTS (default data/checkpoints) for the shipped generator's sampling.",
        version: BuildSources.version)

    enum Only: String, ExpressibleByArgument, CaseIterable { case unet, vit, merge, tensor, generation, sampling }

    @Argument(help: ArgumentHelp("`unet`: only the U-Net training step and its peer (a cheap before/after check); `vit`: only the "
                                 + "ViT training step and its peer; `merge`: only the merge of 10,000 journaled items; `tensor`: only "
                                 + "the kernels (sgemm, BF16 GEMM, convolutions, memory-bound kernels); `generation`: only the pretrain "
                                 + "step and sampling (FP32 and BF16, then the shipped generator as the bench samples it); `sampling`: "
                                 + "only the shipped generator's sampling settings.")) var only: Only?

    func run() {
        if only == .unet { return runUNetBenches() }
        if only == .vit { return runViTBenches() }
        if only == .merge { return runMergeBenches() }
        if only == .tensor { return runTensorBenches() }
        if only == .generation { return runGenerationBenches() }
        if only == .sampling { return runSamplingBenches(issueLineSeconds: nil, issueLineBatch: 8) }
        runTensorBenches()
        runAutogradBenches()
        runOptimBenches()
        runWorldBenches()
        runManifestBenches()
        runMergeBenches()
        runEncoderBenches()
        runUNetBenches()
        runViTBenches()
        runGenerationBenches()
        runPatchQualityBenches()
    }
}

PerfBench.main()
