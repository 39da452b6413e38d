print("perf-bench: no benchmarks yet")
runOptimBenches()
