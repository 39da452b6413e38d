// Benchmarks, one JSON object per line on stdout. Run by `make bench`; never part of the tests.
runTensorBenches()
runOptimBenches()
runWorldBenches()
runUNetBenches()
