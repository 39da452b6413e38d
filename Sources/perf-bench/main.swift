// Benchmarks, one JSON object per line on stdout. Run by `make bench`; never part of the tests.
runOptimBenches()
runWorldBenches()
runManifestBenches()
runTensorBenches()
runTensorBenches()
runAutogradBenches()
runOptimBenches()
