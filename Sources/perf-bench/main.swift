print("perf-bench: no benchmarks yet")
runWorldBenches()
