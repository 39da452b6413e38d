import Checkpoint
import Foundation
import Imaging
@testable import Manifest
import StageKit
import Testing
import World
@testable import PoolStages

private let pool = "artifacts/generate-pool/pool/"

/// generate-pool then score-and-pair on random-init xs models in a temp run dir; then more prompts
/// are appended (finished items untouched) and score-and-pair sees them all.
@Test func bothStagesEndToEndWithAppend() throws {
    let box = try Sandbox(prompts: 2)
    defer { box.remove() }
    try box.fakeJudges()
    try box.fakeGenerator()

    let g1 = try Tool.run("generate-pool", box.args, in: box.dir)
    #expect(g1.status == 0, "\(g1.output)")
    let refBefore = box.file(pool + "p00000/reference.png")
    let genBefore = box.file(pool + "p00001/gen-1.png")
    #expect(refBefore != nil && genBefore != nil && box.file(pool + "p00002/prompt.json") == nil)
    let rec = try PoolPromptRecord.decode(box.file(pool + "p00001/prompt.json")!, path: "prompt.json")
    let plan = PoolPlanner.plan(count: 2, seed: 5, imagesPerPrompt: 2, subjectsPerCategory: 2)[1]
    #expect(rec.seeds == plan.seeds && rec.prompt == plan.prompt && rec.files == ["gen-0.png", "gen-1.png"])
    // The reference is the subject rendered on the clean background.
    let expected = try Renderer.render(RenderRequest(subject: try plan.worldSubject(), scene: .clean, size: 16)).image
    #expect(try PNG.decode([UInt8](box.file(pool + "p00001/reference.png")!)) == expected)
    // Two different seeds give two different images.
    #expect(box.file(pool + "p00001/gen-0.png") != genBefore)

    let g2 = try Tool.run("generate-pool", box.args + ["--set", "prompts=3"], in: box.dir)
    #expect(g2.status == 0, "\(g2.output)")
    #expect(box.file(pool + "p00002/gen-1.png") != nil)
    #expect(box.file(pool + "p00000/reference.png") == refBefore && box.file(pool + "p00001/gen-1.png") == genBefore)

    let s = try Tool.run("score-and-pair", box.args, in: box.dir)
    #expect(s.status == 0, "\(s.output)")
    let scored = try JSONDecoder().decode([ScoredPrompt].self, from: box.file("artifacts/score-and-pair/scores.json")!)
    #expect(scored.map(\.key) == ["p00000", "p00001", "p00002"])
    for p in scored {
        #expect(p.scores.count == 2)
        for sc in p.scores {
            #expect(Set(sc.keys) == ["vit_cls", "clip_image", "clip_text", "patch_quality", "total"])
            #expect(abs(sc["total"]! - sc["vit_cls"]! - sc["clip_text"]! - 0.5 * sc["patch_quality"]!) < 1e-9)
            #expect((0...1).contains(sc["patch_quality"]!))
        }
        #expect(p.decision == Pairing.decide(key: p.key, scores: p.scores.map { $0["total"]! }, minGap: 0))
    }
    let pairs = try JSONDecoder().decode(PairsFile.self, from: box.file("artifacts/score-and-pair/pairs.json")!)
    #expect(pairs.pairs.count + pairs.dropped == 3 && pairs.failed.isEmpty)
    let pd = try JSONDecoder().decode([PatchDPOPair].self, from: box.file("artifacts/score-and-pair/patchdpo-pairs.json")!)
    #expect(pd.count == 6 && pd[0].reference == pool + "p00000/reference.png")
    #expect(pd.map(\.key) == ["p00000-gen-0", "p00000-gen-1", "p00001-gen-0", "p00001-gen-1", "p00002-gen-0", "p00002-gen-1"])
    #expect(pd[3].generated == pool + "p00001/gen-1.png" && pd[3].poolKey == "p00001")
    let csv = String(decoding: box.file("artifacts/score-and-pair/scores.csv")!, as: UTF8.self)
    #expect(csv.split(separator: "\n").count == 7)
    #expect(csv.hasPrefix("key,image,clip_image,clip_text,patch_quality,vit_cls,total\n"))
}

/// A latent U-Net (with its own tuned text tower) and an adapter that trained its own convolutional
/// reference encoder run through the pool stages and dpo-train: generate-pool decodes latents to images,
/// dpo-train encodes them back and trains the adapter on latents (the image_encoder.* keys stay out of the
/// preference-trained adapter). Editing the text tower after pretrain-unet recorded it stops generate-pool.
@Test func latentGeneratorWithConvEncoderRunsThroughDPOTrain() throws {
    let box = try Sandbox(prompts: 2)
    defer { box.remove() }
    try box.fakeJudges()
    try box.fakeLatentGenerator()
    try box.fakeStage("patch-quality") { _ in [] }    // diffusion-dpo reads no quality maps
    for tool in ["generate-pool", "score-and-pair", "dpo-train"] {
        let out = try Tool.run(tool, box.args, in: box.dir)
        #expect(out.status == 0, "\(tool): \(out.output)")
        if tool == "dpo-train" { #expect(out.output.contains("with comprehensive captions (DCO 4.3)"), "\(out.output)") }
    }
    let img = try PNG.decode([UInt8](try #require(box.file(pool + "p00001/gen-0.png"))))
    #expect(img.width == 16 && img.channels == 3)
    let adapters = try FileManager.default.contentsOfDirectory(atPath: box.run.appendingPathComponent("artifacts/dpo-train").path)
        .filter { $0.hasSuffix(".safetensors") && !$0.hasSuffix(".shipped.safetensors") }
    #expect(adapters.sorted() == ["adapter-dco-s1.safetensors", "adapter-diffusion-dpo-s1.safetensors"], "\(adapters)")
    // The autoencoder is one of dpo-train's recorded inputs (lineage and fingerprint), though not a declared upstream.
    let db = try ManifestDB(path: box.run.appendingPathComponent("manifest.sqlite").path)
    let run = try #require(try db.stageRuns(stage: "dpo-train").first)
    #expect(try db.inputs(stageRun: run.id).contains { $0.relativePath.hasSuffix("pretrain-vae/vae.safetensors") })
    let pool = try #require(try db.stageRuns(stage: "generate-pool").first)
    #expect(try db.inputs(stageRun: pool.id).contains { $0.relativePath.hasSuffix("pretrain-vae/vae.safetensors") })
    let tower = box.run.appendingPathComponent("artifacts/pretrain-unet/unet-text-model.safetensors")
    var bytes = try Data(contentsOf: tower)
    bytes[bytes.count - 1] ^= 0xFF
    try bytes.write(to: tower)
    let edited = try Tool.run("generate-pool", box.args + ["--force"], in: box.dir)
    #expect(edited.status == 65 && edited.output.contains("unet-text-model.safetensors"), "\(edited.status): \(edited.output)")
}

/// A dpo-train killed after its final checkpoint but before its outputs were recorded resumes at its last
/// step and still records each run's final loss (issue 19 item 7: the records had no `finalLoss`).
@Test func dpoTrainResumedAtItsLastStepRecordsTheFinalLoss() throws {
    let box = try Sandbox(prompts: 2)
    defer { box.remove() }
    try box.fakeJudges()
    try box.fakeGenerator()
    try box.fakeStage("patch-quality") { _ in [] }
    for tool in ["generate-pool", "score-and-pair", "dpo-train"] {
        let out = try Tool.run(tool, box.args, in: box.dir)
        #expect(out.status == 0, "\(tool): \(out.output)")
    }
    func records() throws -> [[String: Any]] {
        let dir = box.run.appendingPathComponent("artifacts/dpo-train")
        return try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix("adapter-") && $0.hasSuffix(".json") }
            .sorted().map { try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent($0))) as! [String: Any] }
    }
    let straight = try records()
    #expect(straight.count == 2 && straight.allSatisfy { $0["finalLoss"] is Double })
    // As if killed after each run's last checkpoint: the stage run is interrupted, its items (one per run) were left
    // running by a dead worker, and their outputs were neither recorded nor written.
    let db = try ManifestDB(path: box.run.appendingPathComponent("manifest.sqlite").path)
    let run = try #require(try db.stageRuns(stage: "dpo-train").first)
    try db.setStatus(stageRun: run.id, .interrupted, error: nil)
    _ = try db.forgetArtifacts(ids: try db.artifacts(stageRun: run.id).map(\.id))
    try db.db.run("UPDATE items SET status='running', lease_owner='dead:1', lease_expiry=0 WHERE stage_run=?", [.int(run.id)])
    let dir = box.run.appendingPathComponent("artifacts/dpo-train")
    for f in try FileManager.default.contentsOfDirectory(atPath: dir.path) where f.hasPrefix("adapter-") {
        try FileManager.default.removeItem(at: dir.appendingPathComponent(f))
    }
    let again = try Tool.run("dpo-train", box.args, in: box.dir)
    #expect(again.status == 0 && again.output.contains("resumed at step 2/2"), "\(again.output)")
    let resumed = try records()
    #expect(resumed.count == 2)
    for (a, b) in zip(straight, resumed) { #expect(a["finalLoss"] as? Double == b["finalLoss"] as? Double, "\(a) vs \(b)") }
}

/// The stages load their models through the one upstream loader: a CLIP record whose tokenizer words are not this
/// code's is bad data (65) naming the record and the key; a U-Net that pretrain-unet no longer records is
/// missing input (66) naming the stage. A stage whose upstream read the replaced record is refused first, as
/// stale (66, naming the stage to rerun).
@Test func dpoTrainRefusesABadRecordAndNamesAMissingModel() throws {
    let box = try Sandbox(prompts: 1)
    defer { box.remove() }
    try box.fakeJudges()
    try box.fakeGenerator()
    try box.fakeStage("patch-quality") { _ in [] }
    for tool in ["generate-pool", "score-and-pair"] {
        let out = try Tool.run(tool, box.args, in: box.dir)
        #expect(out.status == 0, "\(tool): \(out.output)")
    }
    let clipWeights = try SafeTensors.read(box.artifact("pretrain-clip", "clip.safetensors"))
    var words: [String] = []
    try box.rerecord("pretrain-clip", "clip", weights: clipWeights) {
        words = $0.tokenizerWords ?? []
        $0.tokenizerWords = ["<pad>", "<unk>", "<bos>", "<eos>", "mug"]
    }
    // dpo-train's upstream score-and-pair (and generate-pool under it) read the old record: stale, refused first.
    let stale = try Tool.run("dpo-train", box.args, in: box.dir)
    #expect(stale.status == 66 && stale.output.contains("upstream stage 'score-and-pair' is stale (upstream pretrain-clip changed")
            && stale.output.contains("rerun `score-and-pair` first"), "\(stale.output)")
    // Rerunning in order reaches the loader, which refuses the record.
    let bad = try Tool.run("generate-pool", box.args, in: box.dir)
    #expect(bad.status == 65 && bad.output.contains("pretrain-clip/clip.json") && bad.output.contains("`tokenizerWords`"), "\(bad.output)")
    try box.rerecord("pretrain-clip", "clip", weights: clipWeights) { $0.tokenizerWords = words }
    #expect(try Tool.run("generate-pool", box.args, in: box.dir).status == 0)
    try box.fakeStage("pretrain-unet", force: true) { _ in [] }
    let missing = try Tool.run("generate-pool", box.args, in: box.dir)
    #expect(missing.status == 66 && missing.output.contains("stage pretrain-unet should have produced unet.json"), "\(missing.output)")
}

@Test func missingUpstreamNamesTheStage() throws {
    let box = try Sandbox()
    defer { box.remove() }
    let g = try Tool.run("generate-pool", box.args, in: box.dir)
    #expect(g.status == 66 && g.output.contains("pretrain-unet"), "\(g.output)")
    try box.fakeGenerator()
    // pretrain-clip ran, but without the artifact the generator needs.
    try box.fakeStage("pretrain-clip") { _ in [] }
    let g2 = try Tool.run("generate-pool", box.args, in: box.dir)
    #expect(g2.status == 66 && g2.output.contains("pretrain-clip should have produced clip.safetensors"), "\(g2.output)")
    let s = try Tool.run("score-and-pair", box.args, in: box.dir)
    #expect(s.status == 66 && s.output.contains("generate-pool"), "\(s.output)")
}

/// A pool whose p00001 reference is not a PNG: that prompt is reported failed with its path, p00000 is scored.
@Test func nonPNGReferenceFailsOnlyItsPrompt() throws {
    let box = try Sandbox()
    defer { box.remove() }
    try box.fakeJudges()
    try box.fakeStage("generate-pool", keys: Sandbox.generatePoolKeys) { r in
        var out: [NewArtifact] = []
        for plan in PoolPlanner.plan(count: 2, seed: 5, imagesPerPrompt: 2, subjectsPerCategory: 2) {
            let dir = "pool/\(plan.key)/"
            let subject = try plan.worldSubject()
            let ref = try Renderer.render(RenderRequest(subject: subject, scene: .clean, size: 16)).image
            let refBytes = plan.key == "p00001" ? Data("GIF89a not a png".utf8) : Data(try PNG.encode(ref))
            out.append(try r.writeArtifact(refBytes, name: dir + "reference.png", kind: "reference"))
            for (k, bg) in [Background.forest, .snow].enumerated() {
                let im = try Renderer.render(RenderRequest(subject: subject, scene: Scene(background: bg), size: 16)).image
                out.append(try r.writeArtifact(Data(try PNG.encode(im)), name: dir + "gen-\(k).png", kind: "generated"))
            }
            let rec = PoolPromptRecord(plan: plan, reference: "reference.png", files: ["gen-0.png", "gen-1.png"])
            out.append(try r.writeArtifact(try rec.encoded(), name: dir + "prompt.json", kind: "prompt"))
        }
        return out
    }
    let s = try Tool.run("score-and-pair", box.args, in: box.dir)
    #expect(s.status == 1 && s.output.contains("p00001/reference.png"), "\(s.output)")
    let pairs = try JSONDecoder().decode(PairsFile.self, from: box.file("artifacts/score-and-pair/pairs.json")!)
    #expect(pairs.failed.map(\.key) == ["p00001"] && pairs.failed[0].path.hasSuffix("p00001/reference.png"))
    let scored = try JSONDecoder().decode([ScoredPrompt].self, from: box.file("artifacts/score-and-pair/scores.json")!)
    #expect(scored.map(\.key) == ["p00000"])
}
