import Foundation
import Manifest

/// Journal mode's merge (docs/SHARDING.md): 10,000 items journaled by 4 shards, each item with one 64-byte artifact
/// file, folded into the manifest by `mergeShardJournals` (every artifact hashed, then one transaction), and merged
/// again (nothing to do: the idempotent path). The setup (files, one durable journal transaction per item) is not
/// timed. Prints one JSON line: seconds of the first merge and of the second.
func runMergeBenches() {
    let items = 10_000, shards = 4
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("merge-bench-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: dir) }
    do {
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("artifacts/bench"), withIntermediateDirectories: true)
        let db = try ManifestDB(path: dir.appendingPathComponent("manifest.sqlite").path)
        let run = try db.ensureRun(name: "bench", configHash: "c", codeVersion: "v")
        let stageRun = try db.beginStageRun(run: run, stage: "bench", fingerprint: "f", inputs: [])
        try db.addItems(stageRun: stageRun, keys: (0..<items).map { "item-\($0)" })
        var journals: [URL] = []
        for k in 0..<shards {
            let shard = Shard(index: k, count: shards)
            let url = dir.appendingPathComponent("shards/bench/" + ShardJournal.fileName(shard))
            let journal = try ShardJournal(path: url.path, creating: .init(stage: "bench", stageRun: stageRun, fingerprint: "f", shard: shard))
            for item in try db.items(stageRun: stageRun) where shard.contains(item.key) {
                let data = Data(String(repeating: item.key, count: 8).prefix(64).utf8)
                let path = "artifacts/bench/\(item.key).bin"
                try data.write(to: dir.appendingPathComponent(path))
                try journal.recordDone(key: item.key, item: item.id, artifacts: [
                    NewArtifact(kind: "bin", relativePath: path, sha256: SHA256.hex(data), bytes: Int64(data.count))])
            }
            try journal.markComplete(done: 0, failed: 0)
            journals.append(url)
        }
        func timed(_ body: () throws -> ShardMergeReport) throws -> (Double, ShardMergeReport) {
            let start = DispatchTime.now().uptimeNanoseconds
            let report = try body()
            return (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9, report)
        }
        let (first, merged) = try timed { try db.mergeShardJournals(journals, stageRun: stageRun, runDirectory: dir) }
        let (second, again) = try timed { try db.mergeShardJournals(journals, stageRun: stageRun, runDirectory: dir) }
        precondition(merged.merged == items && again.alreadyDone == items, "merge bench: \(merged), then \(again)")
        print("{\"bench\":\"manifest_merge_shard_journals\",\"items\":\(items),\"journals\":\(shards),"
              + "\"seconds\":\(String(format: "%.3f", first)),\"us_per_item\":\(String(format: "%.1f", first * 1e6 / Double(items))),"
              + "\"second_merge_seconds\":\(String(format: "%.3f", second))}")
    } catch {
        print("{\"bench\":\"manifest_merge_shard_journals\",\"error\":\"\(error)\"}")
    }
}
