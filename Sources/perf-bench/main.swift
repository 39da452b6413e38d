// Benchmarks, one JSON object per line on stdout. Run by `make bench`; never part of the tests.
runOptimBenches()
runWorldBenches()
runManifestBenches()
print("perf-bench: no benchmarks yet")
