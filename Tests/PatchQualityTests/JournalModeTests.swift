import Foundation
import Manifest
import Testing

/// patch-quality in journal mode (docs/SHARDING.md): planned for 2 shards, run into journals, merged; the same
/// artifacts and metrics as an unsharded run of the same stage, and the shards never wrote the manifest.
@Suite(.serialized) struct JournalModeTests {
    @Test func patchQualityInTwoJournalShardsMatchesAnUnshardedRun() throws {
        let fx = try StageFixture(epochs: 1)
        #expect(try fx.run("ssl-finetune-vit").status == 0)
        let plan = try fx.run("patch-quality", ["--plan-shards", "2"])
        #expect(plan.status == 0, "\(plan.stderr)")
        let manifest = fx.runDir.appendingPathComponent("manifest.sqlite")
        let before = [manifest.path, manifest.path + "-wal"].map { FileManager.default.contents(atPath: $0) }
        for k in 0..<2 {
            let shard = try fx.run("patch-quality", ["--shard", "\(k)/2", "--journal"])
            #expect(shard.status == 0, "\(shard.stderr)")
        }
        #expect([manifest.path, manifest.path + "-wal"].map { FileManager.default.contents(atPath: $0) } == before)
        let merge = try fx.run("patch-quality", ["--merge-shards"])
        #expect(merge.status == 0, "\(merge.stderr)")

        let db = try ManifestDB(path: manifest.path, mode: .readOnly)
        let sharded = try #require(try db.stageRuns(stage: "patch-quality").first)
        #expect(sharded.status == .done)
        #expect(try db.items(stageRun: sharded.id).allSatisfy { $0.status == .done && $0.attempts == 1 })
        let names = Set(try db.metrics(stageRun: sharded.id).map(\.name))
        #expect(names.isSuperset(of: ["auroc_original", "auroc_finetuned"]), "\(names)")
        let shardedOutputs = Dictionary(uniqueKeysWithValues: try db.artifacts(stageRun: sharded.id).map { ($0.relativePath, $0.sha256) })

        let plain = try fx.run("patch-quality", ["--force"])
        #expect(plain.status == 0, "\(plain.stderr)")
        let unsharded = try #require(try db.stageRuns(stage: "patch-quality").first)
        #expect(unsharded.id != sharded.id)
        #expect(Dictionary(uniqueKeysWithValues: try db.artifacts(stageRun: unsharded.id).map { ($0.relativePath, $0.sha256) })
                == shardedOutputs)
        #expect(Set(try db.metrics(stageRun: unsharded.id).map(\.name)) == names)
        #expect(try db.verify(runDirectory: fx.runDir) == [])
    }
}
