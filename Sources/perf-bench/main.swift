runManifestBenches()
print("perf-bench: no benchmarks yet")
