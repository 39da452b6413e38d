import Checkpoint
import Foundation
import Models
import NN
import Pretrained
import Random
import StageKit
import Testing
import Upstream
import World

/// The one manifest-aware loader (module Upstream): artifacts found by name and verified against the
/// manifest, models built by Pretrained's loaders from `PretrainRecord`s. Its fake upstream stages are the
/// pool stages' (`Sandbox`), so the suite lives here.
@Suite struct UpstreamTests {
    /// The loader of a stage reading the generator's upstream stages (a generate-pool stand-in; its lock is
    /// held while the result lives, so make one per test and `fresh` copies of it).
    func consumer(_ box: Sandbox) throws -> UpstreamModels {
        let def = StageDefinition(name: "generate-pool", schema: ConfigSchema(section: "generate-pool", keys: Sandbox.generatePoolKeys),
                                  sourceFingerprint: "test-1", upstream: ["pretrain-clip", "pretrain-unet", "pretrain-adapter"])
        return UpstreamModels(runner: try StageRunner(def, options: try CommonOptions.parse(box.args)))
    }

    /// Runs `body` on a sandbox holding fake judges and a fake generator (`latent`: with an autoencoder, the
    /// U-Net's own text tower and the adapter's conv encoder) and on a consumer's loader.
    func withGenerator(latent: Bool = false, _ body: (Sandbox, UpstreamModels) throws -> Void) throws {
        let box = try Sandbox()
        defer { box.remove() }
        try box.fakeJudges()
        try latent ? box.fakeLatentGenerator() : box.fakeGenerator()
        try body(box, try consumer(box))
    }

    /// The same stage's loader with nothing listed yet (after an upstream stage ran again).
    func fresh(_ up: UpstreamModels) -> UpstreamModels { UpstreamModels(runner: up.artifacts.runner) }

    func error(_ body: () throws -> Void) -> (any Error)? {
        do { try body() } catch { return error }
        return nil
    }

    @Test func aMissingArtifactNamesTheStageThatShouldProduceIt() throws {
        let box = try Sandbox()
        defer { box.remove() }
        try box.fakeJudges()
        try box.fakeStage("pretrain-unet") { _ in [] }
        let up = try consumer(box)
        let e = error { _ = try up.generator() }
        guard case let .missingFile(path, hint)? = e as? StageError else { Issue.record("\(String(describing: e))"); return }
        #expect(path == box.artifact("pretrain-unet", "unet.safetensors").path)
        #expect(hint.contains("stage pretrain-unet should have produced unet.safetensors"), "\(hint)")
        #expect(e.map(StageExitCode.of) == .noInput)
        // A stage that never ran here is missing input too, naming it.
        let never = error { _ = try up.artifacts.record("adapter", of: "pretrain-adapter") }
        #expect(never as? StageError == .upstreamMissing(stage: "generate-pool", upstreams: ["pretrain-adapter"]))
        #expect(never.map(StageExitCode.of) == .noInput)
    }

    @Test func anEditedArtifactIsRefused() throws {
        try withGenerator { box, up in
            _ = try up.generator()
            let record = box.artifact("pretrain-unet", "unet.json")
            try (try Data(contentsOf: record) + Data(" ".utf8)).write(to: record)
            let e = error { _ = try up.generator() }
            guard case let .inputUnverified(stage, upstream, problem)? = e as? StageError else { Issue.record("\(String(describing: e))"); return }
            #expect(stage == "generate-pool" && upstream == "pretrain-unet")
            #expect(problem.contains(record.path) && problem.contains("edited after recording"), "\(problem)")
            #expect(e.map(StageExitCode.of) == .dataError)
        }
    }

    /// A U-Net record naming its own tuned text tower: the generator reads that tower (a verified output of
    /// pretrain-unet), not CLIP's; a record naming a tower pretrain-unet did not record is missing input.
    @Test func aUNetRecordNamingATextTowerGivesTheGeneratorThatTower() throws {
        try withGenerator(latent: true) { box, up in
            let g = try up.generator()
            let tower = try TextEncoder(config: Sandbox.clipConfig.text, key: RNGKey(seed: 29))
            let isTower = g.textEncoder.stateDict() == tower.stateDict(), isCLIPs = g.textEncoder.stateDict() == (try up.clip()).textModel.stateDict()
            #expect(isTower && !isCLIPs)
            #expect(g.vae != nil && g.resolution == 16)
            // The latent U-Net's autoencoder joins the inputs though no stage declared pretrain-vae.
            #expect(try up.artifacts.inputs(["pretrain-clip", "pretrain-unet", "pretrain-adapter"])
                        .contains { $0.relativePath == "artifacts/pretrain-vae/vae.safetensors" })

            try box.rerecord("pretrain-unet", "unet", weights: try SafeTensors.read(box.artifact("pretrain-unet", "unet.safetensors")))
            let e = error { _ = try fresh(up).generator() }
            guard case let .missingFile(path, hint)? = e as? StageError else { Issue.record("\(String(describing: e))"); return }
            #expect(path.hasSuffix("pretrain-unet/unet-text-model.safetensors") && hint.contains("stage pretrain-unet should have produced"))
        }
    }

    /// A base U-Net file without its image branch (`to_k_ip`/`to_v_ip`) takes the adapter's; half a branch is refused.
    @Test func aUNetFileWithoutItsImageBranchLoads() throws {
        try withGenerator { box, up in
            let full = try SafeTensors.read(box.artifact("pretrain-unet", "unet.safetensors"))
            var base = full
            for k in full.tensors.keys where k.hasSuffix("to_k_ip.weight") || k.hasSuffix("to_v_ip.weight") { base.tensors[k] = nil }
            #expect(base.tensors.count < full.tensors.count)
            try box.rerecord("pretrain-unet", "unet", weights: base)
            let g = try fresh(up).generator()
            let adapter = try SafeTensors.read(box.artifact("pretrain-adapter", "adapter.safetensors"))
            let applied = PretrainedModels.adapterFile(unet: g.unet, resampler: g.resampler!) == adapter
            #expect(applied)

            var half = full
            for k in full.tensors.keys where k.hasSuffix("to_v_ip.weight") { half.tensors[k] = nil }
            try box.rerecord("pretrain-unet", "unet", weights: half)
            let e = error { _ = try fresh(up).generator() }
            #expect(e.map { "\($0)" }?.contains("unet.safetensors") == true && e.map { "\($0)" }?.contains("to_v_ip") == true,
                    "\(String(describing: e))")
            #expect(e.map(StageExitCode.of) == .dataError)
        }
    }

    /// The tokenizer policy: a CLIP record whose words are not this code's vocabulary stops the load (65),
    /// naming the record and the key.
    @Test func aCLIPRecordWithOtherWordsIsRefused() throws {
        try withGenerator { box, up in
            #expect(try up.generator().tokenizer == WorldText.tokenizer())
            try box.rerecord("pretrain-clip", "clip", weights: try SafeTensors.read(box.artifact("pretrain-clip", "clip.safetensors"))) {
                $0.tokenizerWords = Array($0.tokenizerWords!.dropLast())
            }
            let e = error { _ = try fresh(up).generator() }
            guard case let .badCheckpoint(path, reason)? = e as? PretrainedError else { Issue.record("\(String(describing: e))"); return }
            #expect(path == box.artifact("pretrain-clip", "clip.json").path && reason.contains("`tokenizerWords`"), "\(reason)")
            #expect(e.map(StageExitCode.of) == .dataError)
        }
    }

    /// pretrain-segmenter's model: built from its record, verified; a run without the stage names it (66).
    @Test func theSegmenterComesFromPretrainSegmentersRecord() throws {
        try withGenerator { box, up in
            let never = error { _ = try up.segmenter() }
            #expect(never as? StageError == .upstreamMissing(stage: "generate-pool", upstreams: ["pretrain-segmenter"]))
            let cfg = SegmenterConfig(channels: [8, 16])
            let made = try Segmenter(config: cfg, key: RNGKey(seed: 31))
            try box.fakeStage("pretrain-segmenter") { r in
                try Sandbox.write(r, "segmenter", kind: "checkpoint/segmenter", weights: made.stateDict()) { $0.segmenter = cfg }
            }
            let loaded = try fresh(up).segmenter()
            #expect(loaded.config == cfg && loaded.stateDict() == made.stateDict())
            // A record without the `segmenter` config is refused naming the file.
            try box.rerecord("pretrain-segmenter", "segmenter", weights: made.stateDict()) { $0.segmenter = nil }
            let e = error { _ = try fresh(up).segmenter() }
            #expect("\(String(describing: e))".contains("segmenter.safetensors") && "\(String(describing: e))".contains("`segmenter`"))
        }
    }
}
