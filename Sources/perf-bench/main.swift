// Benchmarks, one JSON object per line on stdout. Run by `make bench`; never part of the tests.
runTensorBenches()
runAutogradBenches()
runOptimBenches()
runWorldBenches()
runManifestBenches()
runEncoderBenches()
runUNetBenches()
