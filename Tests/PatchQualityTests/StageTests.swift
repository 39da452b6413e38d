import Checkpoint
import Foundation
import Imaging
import Manifest
import Models
import Testing
import TestSupport
import World
@testable import PatchQuality

/// Both stages end to end on a fixture run directory (StageFixture), through the real executables.
@Suite(.serialized) struct StageTests {
    @Test func sslFinetuneThenPatchQuality() throws {
        let fx = try StageFixture(corruptKey: "p00002")
        // A "real" HPatches folder at 32 px (the ViT is 16 px: homographies are rescaled).
        let real = fx.dir.appendingPathComponent("hpatches-sequences-release")
        try HPatches.write(try HPatches.makeViewpoint(name: "v_real", seed: 9, size: 32), to: real.path)
        let ssl = try fx.run("ssl-finetune-vit", ["--hpatches", fx.dir.path])
        #expect(ssl.status == 0, "\(ssl.stderr)")
        // Loss blocks [2, 7] capped to the depth-3 ViT; eval block 12 skipped; both said so.
        #expect(ssl.stderr.contains("capped") && ssl.stderr.contains("[12] skipped"), "\(ssl.stderr)")
        // Finetuned weights: same keys and shapes as the original, different values.
        let tuned = try ViTLoading.load(fx.artifact("ssl-finetune-vit", "vit-ssl.safetensors"), heads: 2)
        #expect(tuned.config == ViTConfig.xs)
        #expect(tuned.stateDict().tensors != fx.vit.stateDict().tensors)
        // The table: header + (before, after) x blocks 1...3 for the world sequences.
        let csv = try String(contentsOf: fx.artifact("ssl-finetune-vit", "patch-matching.csv"), encoding: .utf8)
            .split(separator: "\n")
        #expect(csv.first == Substring(MatchingRow.csvHeader))
        #expect(csv.dropFirst().map { $0.split(separator: ",").prefix(3).joined(separator: ",") }
                == ["world,before,1", "world,before,2", "world,before,3", "hpatches,before,1", "hpatches,before,2", "hpatches,before,3",
                    "world,after,1", "world,after,2", "world,after,3", "hpatches,after,1", "hpatches,after,2", "hpatches,after,3"])
        let db = try ManifestDB(path: fx.runDir.appendingPathComponent("manifest.sqlite").path)
        let sslRun = try #require(try db.stageRuns(stage: "ssl-finetune-vit").first)
        let outs = try db.artifacts(stageRun: sslRun.id)
        #expect(outs.filter { $0.kind == "hpatches" }.count == 2 * (6 + 5))          // v_ and i_ sequence, 6 images + 5 H
        #expect(outs.contains { $0.kind == "checkpoint/vit-ssl" } && outs.filter { $0.kind == "table" }.count == 2)
        // 8 images (9 PNGs, the corrupt reference skipped with a warning), batch 4, 2 epochs: 2 steps each.
        #expect(ssl.stderr.contains("skipping") && ssl.stderr.contains("p00002/reference.png"), "\(ssl.stderr)")
        #expect(try db.metrics(stageRun: sslRun.id).filter { $0.name == "loss" }.map(\.step) == Array(1...4))

        // patch-quality: 6 pairs, the two of p00002 fail (reference not a PNG), the rest and the AUROC item pass.
        let pq = try fx.run("patch-quality")
        #expect(pq.status == 1, "\(pq.stderr)")
        #expect(pq.stderr.contains("artifacts/generate-pool/pool/p00002/reference.png") && pq.stderr.contains("not a valid PNG"),
                "\(pq.stderr)")
        let pqRun = try #require(try db.stageRuns(stage: "patch-quality").first)
        let items = try db.items(stageRun: pqRun.id)
        #expect(items.filter { $0.status == .failed }.map(\.key).sorted() == ["p00002-gen-0", "p00002-gen-1"])
        #expect(items.filter { $0.status == .done }.count == 5)
        // One map set per ViT of `vits` (default: both), named and labelled by the ViT; the two differ.
        for key in ["p00000-gen-0", "p00000-gen-1", "p00001-gen-0", "p00001-gen-1"] {
            var qg: [String: [Float]] = [:]
            for vit in ["finetuned", "original"] {
                let f = try SafeTensors.read(fx.artifact("patch-quality", "q/\(vit)/\(key).safetensors"))
                for name in ["q_g", "q_r"] {
                    let t = try #require(f.tensors[name])
                    #expect(t.shape == [32, 32])
                    #expect(t.values.allSatisfy { $0 >= 0 && $0 <= 1 })
                }
                #expect(f.tensors["q_g_patch"]?.shape == [4, 4])
                // The finetuned ViT at the configured block 2; the original at its last block (depth 3; Table 4's baseline).
                #expect(f.metadata["block"] == (vit == "original" ? "3" : "2") && f.metadata["vit"] == vit)
                qg[vit] = f.tensors["q_g_patch"]?.values
            }
            #expect(qg["finetuned"] != qg["original"], "\(key): the two ViTs' maps must differ")
        }
        let artifacts = try db.artifacts(stageRun: pqRun.id)
        #expect(artifacts.filter { $0.kind == "heatmap" }.map(\.relativePath).sorted()
                == ["finetuned", "original"].flatMap { v in
                    ["artifacts/patch-quality/heatmaps/\(v)/p00000-gen-0.png", "artifacts/patch-quality/heatmaps/\(v)/p00000-gen-1.png"]
                })
        let auroc = try JSONSerialization.jsonObject(with: Data(contentsOf: fx.artifact("patch-quality", "auroc.json"))) as? [String: Any]
        let models = try #require(auroc?["models"] as? [String: Any])
        #expect(Set(models.keys) == ["original", "finetuned"])
        let v = try #require((models["original"] as? [String: Any])?["auroc"] as? Double)
        #expect(v >= 0 && v <= 1)

        // The aligned quality needs foreground masks on both sides: `none` is refused naming the key (exit 65).
        let refused = try fx.run("patch-quality", ["--set", "aligned=true"])
        #expect(refused.status == 65 && refused.stderr.contains("fg_generated") && refused.stderr.contains("aligned"), "\(refused.stderr)")
        // With masks, every map file also carries q_aligned (and says its block and transform), the heatmaps gain
        // two panels, and auroc.json gains the <vit>-aligned rows.
        let aligned = try fx.run("patch-quality", ["--set", "aligned=true", "--set", "fg_generated=\"border\""])
        #expect(aligned.status == 1, "\(aligned.stderr)")       // p00002 still fails
        for vit in ["finetuned", "original"] {
            let f = try SafeTensors.read(fx.artifact("patch-quality", "q/\(vit)/p00001-gen-0.safetensors"))
            let qa = try #require(f.tensors["q_aligned"])
            #expect(qa.shape == [32, 32] && qa.values.allSatisfy { $0 >= 0 && $0 <= 1 })
            #expect(f.tensors["q_aligned_patch"]?.shape == [4, 4] && f.metadata["aligned-block"] == "1")
            #expect(f.metadata["aligned-transform"]?.hasPrefix("scale ") == true, "\(f.metadata)")
            let sheet = try PNG.read(fx.artifact("patch-quality", "heatmaps/\(vit)/p00000-gen-0.png").path)
            #expect(sheet.width > 5 * sheet.height, "six panels in a row: \(sheet.width)x\(sheet.height)")
        }
        let doc = try JSONSerialization.jsonObject(with: Data(contentsOf: fx.artifact("patch-quality", "auroc.json"))) as? [String: Any]
        let rows = try #require(doc?["models"] as? [String: Any])
        #expect(Set(rows.keys) == ["original", "finetuned", "original-aligned", "finetuned-aligned"])
        #expect((doc?["blocks"] as? [String: Int])?["finetuned-aligned"] == 1)

        // `aligned_terms`: the maps multiply q_a by the image terms (and say so), so they differ from q_a alone.
        let plain = try SafeTensors.read(fx.artifact("patch-quality", "q/finetuned/p00001-gen-0.safetensors"))
        #expect(plain.metadata["aligned-terms"] == "features")
        let terms = try fx.run("patch-quality", ["--set", "aligned=true", "--set", "fg_generated=\"border\"",
                                                 "--set", "aligned_terms=\"features+pixels+contrast\""])
        #expect(terms.status == 1, "\(terms.stderr)")
        let f = try SafeTensors.read(fx.artifact("patch-quality", "q/finetuned/p00001-gen-0.safetensors"))
        #expect(f.metadata["aligned-terms"] == "features+pixels+contrast")
        let a = try #require(plain.tensors["q_aligned_patch"]?.values), b = try #require(f.tensors["q_aligned_patch"]?.values)
        #expect(a != b && zip(a, b).allSatisfy { $1 <= $0 + 1e-6 }, "the terms are at most 1: \(a) vs \(b)")
        #expect(try fx.run("patch-quality", ["--set", "aligned_terms=\"ssim\""]).status == 65)
    }

    @Test func missingUpstreamFilesNameTheStageThatShouldHaveMadeThem() throws {
        let noPairs = try StageFixture(withPairsFile: false)
        #expect(try noPairs.run("ssl-finetune-vit").status == 0)
        let pq = try noPairs.run("patch-quality")
        #expect(pq.status == 66)
        #expect(pq.stderr.contains("patchdpo-pairs.json") && pq.stderr.contains("stage score-and-pair should have produced it"), "\(pq.stderr)")
        let noViT = try StageFixture(withViTFile: false)
        let ssl = try noViT.run("ssl-finetune-vit")
        #expect(ssl.status == 66)
        #expect(ssl.stderr.contains("vit.safetensors") && ssl.stderr.contains("stage pretrain-vit should have produced vit.safetensors"), "\(ssl.stderr)")
    }

    /// A real HPatches folder with a malformed H_1_k is a data error (65), one with a missing image
    /// missing input (66), each naming the file: they exited 70 (internal) before.
    @Test func badHPatchesFolderExits65Or66NamingTheFile() throws {
        let fx = try StageFixture()
        let real = fx.dir.appendingPathComponent("hp")
        try HPatches.write(try HPatches.makeViewpoint(name: "v_bad", seed: 9, size: 32), to: real.path)
        let h = real.appendingPathComponent("v_bad/H_1_3")
        try Data("1 0 0\n0 1 0\n".utf8).write(to: h)
        let malformed = try fx.run("ssl-finetune-vit", ["--hpatches", real.path])
        #expect(malformed.status == 65 && malformed.stderr.contains(h.path), "\(malformed.status): \(malformed.stderr)")
        try HPatches.write(try HPatches.makeViewpoint(name: "v_bad", seed: 9, size: 32), to: real.path)
        let image = real.appendingPathComponent("v_bad/2.ppm")
        try FileManager.default.removeItem(at: image)
        let missing = try fx.run("ssl-finetune-vit", ["--hpatches", real.path])
        #expect(missing.status == 66 && missing.stderr.contains(image.path), "\(missing.status): \(missing.stderr)")
    }

    @Test func missingUpstreamNamesTheStage() throws {
        let fx = try StageFixture(stages: ["pretrain-vit"])
        let pq = try fx.run("patch-quality")
        #expect(pq.status == 66)
        // Every missing upstream at once (pretrain-vit ran), each as the command that runs it.
        #expect(pq.stderr.contains("upstream stages 'score-and-pair', 'ssl-finetune-vit', 'generate-pool' in this run directory; "
                                   + "hint: run `score-and-pair`, `ssl-finetune-vit` and `generate-pool` first"), "\(pq.stderr)")
        let ssl = try fx.run("ssl-finetune-vit")
        #expect(ssl.status == 66)
        #expect(ssl.stderr.contains("upstream stage 'generate-pool'"), "\(ssl.stderr)")
    }
}

/// SIGINT mid-training, then the same command: it resumes from the newest checkpoint and writes
/// the same finetuned weights as an uninterrupted run.
@Test func sslStageResumesBitExactAfterAnInterrupt() throws {
    let straight = try StageFixture(epochs: 8)
    let s = try straight.run("ssl-finetune-vit")
    #expect(s.status == 0, "\(s.stderr)")

    let fx = try StageFixture(epochs: 8)
    let p = try Spawned(Tool.url("ssl-finetune-vit"), ["--config", fx.config.path, "--run-dir", fx.runDir.path], in: fx.dir)
    let checkpoints = fx.artifact("ssl-finetune-vit", "checkpoints")
    let deadline = Date().addingTimeInterval(60)
    while p.process.isRunning && Date() < deadline
            && ((try? FileManager.default.contentsOfDirectory(atPath: checkpoints.path))?.isEmpty ?? true) {
        usleep(5_000)
    }
    kill(p.process.processIdentifier, SIGINT)
    #expect(p.wait() == 130, "\(p.stderr)")
    #expect(!FileManager.default.fileExists(atPath: fx.artifact("ssl-finetune-vit", "vit-ssl.safetensors").path))
    let again = try fx.run("ssl-finetune-vit")
    #expect(again.status == 0, "\(again.stderr)")
    #expect(again.stderr.contains("resumed from the checkpoint of step"), "\(again.stderr)")
    let a = try Data(contentsOf: fx.artifact("ssl-finetune-vit", "vit-ssl.safetensors"))
    let b = try Data(contentsOf: straight.artifact("ssl-finetune-vit", "vit-ssl.safetensors"))
    #expect(try SafeTensors.read(fx.artifact("ssl-finetune-vit", "vit-ssl.safetensors")).tensors
            == SafeTensors.read(straight.artifact("ssl-finetune-vit", "vit-ssl.safetensors")).tensors)
    #expect(a == b)
    #expect(try Data(contentsOf: fx.artifact("ssl-finetune-vit", "patch-matching.csv"))
            == Data(contentsOf: straight.artifact("ssl-finetune-vit", "patch-matching.csv")))
}
