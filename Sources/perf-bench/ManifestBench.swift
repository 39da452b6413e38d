import Foundation
import Manifest

/// Manifest overhead per item: claim + complete with one artifact record (no file I/O of the
/// artifact itself), 10,000 items, one worker, for claim batch sizes 1 and 32. Each completion
/// is its own durable transaction (WAL, synchronous=FULL), as in the pipeline.
/// Prints one JSON line per batch size: wall time per item (dominated by one fsync per commit)
/// and process CPU time (user + system) per item.
func runManifestBenches() {
    let items = 10_000
    for batch in [1, 32] {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("manifest-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        do {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let db = try ManifestDB(path: dir.appendingPathComponent("manifest.sqlite").path)
            let run = try db.ensureRun(name: "bench", configHash: "c", codeVersion: "v")
            let stage = try db.beginStageRun(run: run, stage: "bench", fingerprint: "f", inputs: [])
            try db.addItems(stageRun: stage, keys: (0..<items).map { "item-\($0)" })
            let hash = SHA256.hex("payload")
            let start = DispatchTime.now().uptimeNanoseconds
            let cpuStart = cpuSeconds()
            var done = 0
            while true {
                let claims = try db.claim(stageRun: stage, owner: "bench", limit: batch, lease: 600)
                if claims.isEmpty { break }
                for c in claims {
                    try db.complete(c, artifacts: [NewArtifact(kind: "png", relativePath: "artifacts/bench/\(c.key).png",
                                                               sha256: hash, bytes: 7)])
                    done += 1
                }
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            let cpu = cpuSeconds() - cpuStart
            precondition(done == items, "bench completed \(done) of \(items) items")
            print("{\"bench\":\"manifest_claim_complete\",\"items\":\(items),\"batch\":\(batch),"
                  + "\"synchronous\":\"FULL\",\"us_per_item\":\(String(format: "%.1f", seconds * 1e6 / Double(items))),"
                  + "\"cpu_us_per_item\":\(String(format: "%.1f", cpu * 1e6 / Double(items))),"
                  + "\"seconds\":\(String(format: "%.3f", seconds))}")
        } catch {
            print("{\"bench\":\"manifest_claim_complete\",\"error\":\"\(error)\"}")
        }
    }
}

/// User + system CPU seconds of this process (`clock()`).
private func cpuSeconds() -> Double { Double(clock()) / Double(CLOCKS_PER_SEC) }
