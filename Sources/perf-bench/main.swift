// Benchmarks, one JSON object per line on stdout. Run by `make bench`; never part of the tests.
runOnlyUNetIfAsked()   // `perf-bench unet`: the U-Net step alone, then exit
runTensorBenches()
runAutogradBenches()
runOptimBenches()
runWorldBenches()
runManifestBenches()
runEncoderBenches()
runUNetBenches()
runGenerationBenches()
runPatchQualityBenches()
