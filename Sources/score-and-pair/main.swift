import ArgumentParser
import Foundation
import Imaging
import Manifest
import PoolStages
import StageKit
import Upstream

/// `score-and-pair`: scores every pool image against its reference and prompt, picks the HG-DPO pair per
/// prompt (winner = argmax, loser = argmin of the weighted total, dropped below `min_gap`), and lists the
/// (reference, generated) pairs PatchDPO trains on. A prompt whose images cannot be read is recorded as
/// failed in pairs.json (with path and reason) and the rest continue; the stage then exits 1.
struct ScoreAndPair: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score-and-pair", abstract: "Score the pool and build preference pairs ([score-and-pair]).",
        discussion: definition.help("Items are prompts."),
        version: BuildSources.version)

    static let definition = StageDefinition(
        name: "score-and-pair",
        schema: ConfigSchema(section: "score-and-pair", keys: [
            ConfigKey("w_vit_cls", .float, default: .float(1), doc: "weight of ViT class-token similarity to the reference"),
            ConfigKey("w_clip_image", .float, default: .float(0), doc: "weight of CLIP image similarity to the reference"),
            ConfigKey("w_clip_text", .float, default: .float(1), doc: "weight of CLIP text alignment with the prompt"),
            ConfigKey("w_patch_quality", .float, default: .float(1), doc: "weight of the foreground mean patch quality q_g (METHODS 7)"),
            ConfigKey("min_gap", .float, default: .float(0.01), doc: "drop pairs whose total-score gap is below this"),
            .integer("pq_block", default: 7, doc: "ViT block of the patch features (capped at the ViT's depth)", in: 1...64),
            ConfigKey("pq_normalization", .string, default: .string("cosine"), doc: "cosine ((cos+1)/2) | min-max"),
            ConfigKey("pq_fg_reference", .string, default: .string("border"), doc: "foreground estimator of references: border | none | segmenter"),
            ConfigKey("pq_fg_generated", .string, default: .string("border"),
                      doc: "foreground estimator of generated images: border | none | segmenter (pretrain-segmenter's model, read only then)"),
            ConfigKey("pq_border_threshold", .float, default: .float(40), doc: "RGB distance (0..255) from the border colour that counts as foreground"),
            ConfigKey("pq_cell_threshold", .float, default: .float(0.25), doc: "a cell is foreground when more than this share of its pixels is"),
        ]),
        sourceFingerprint: BuildSources.fingerprint,
        upstream: ["generate-pool", "pretrain-vit", "pretrain-clip"])

    @OptionGroup var common: CommonOptions

    func run() throws {
        try StageMain.run(Self.definition, options: common) { r in
            let c = r.config
            let weights = ["vit_cls": c.double("w_vit_cls"), "clip_image": c.double("w_clip_image"), "clip_text": c.double("w_clip_text"),
                           "patch_quality": c.double("w_patch_quality")]
            let pq = try PatchQualityScorer.parse(block: c.int("pq_block"), normalization: c.string("pq_normalization"),
                                                  fgReference: c.string("pq_fg_reference"), fgGenerated: c.string("pq_fg_generated"),
                                                  borderThreshold: c.double("pq_border_threshold"), cellThreshold: c.double("pq_cell_threshold"))
            let minGap = c.double("min_gap")
            var failedCount = 0
            // pretrain-segmenter is an input only when an estimator is `segmenter`.
            let inputs = try r.allUpstreamOutputs() + (pq.needsSegmenter ? try r.upstreamOutputs("pretrain-segmenter") : [])
            let summary = try r.runWhole(inputs: inputs) { ctx in
                let pool = try r.upstreamOutputs("generate-pool")
                let models = UpstreamModels(runner: r)
                let scorer = PoolScorer(vit: try models.vit(), clip: try models.clip(), patchQuality: pq,
                                        segmenter: pq.needsSegmenter ? try models.segmenter() : nil)
                var scored: [ScoredPrompt] = [], failed: [FailedPrompt] = []
                let records = pool.filter { $0.kind == "prompt" }.sorted { $0.relativePath < $1.relativePath }
                for rec in records {
                    try ctx.checkInterrupt()
                    let dir = (rec.relativePath as NSString).deletingLastPathComponent
                    let pr = try PoolPromptRecord.decode(try r.readVerified(rec, upstream: "generate-pool"), path: rec.relativePath)
                    do {
                        func image(_ name: String) throws -> (String, Image) {
                            let path = dir + "/" + name
                            guard let a = pool.first(where: { $0.relativePath == path }) else {
                                throw PoolError.badFile(path: path, reason: "listed in \(rec.relativePath) but not recorded",
                                                        hint: "rerun generate-pool with --force")
                            }
                            return (path, try PoolReports.decodePNG(try r.readVerified(a, upstream: "generate-pool"), path: path))
                        }
                        let (refPath, ref) = try image(pr.reference)
                        let gens = try pr.files.map(image)
                        var s = try scorer.score(reference: ref, images: gens.map(\.1), prompt: pr.prompt)
                        for i in s.indices { s[i]["total"] = Pairing.total(s[i], weights: weights) }
                        let d = Pairing.decide(key: pr.key, scores: s.map { $0["total"]! }, minGap: minGap)
                        scored.append(ScoredPrompt(key: pr.key, prompt: pr.prompt, reference: refPath, images: gens.map(\.0),
                                                   scores: s, decision: d))
                    } catch {
                        r.log.warn("prompt '\(pr.key)' failed: \(error)")
                        let path = (error as? PoolError).flatMap { if case let .badFile(p, _, _) = $0 { p } else { nil } } ?? rec.relativePath
                        failed.append(FailedPrompt(key: pr.key, path: path, reason: "\(error)"))
                    }
                }
                failedCount = failed.count
                let pairs = PairsFile(prompts: scored, failed: failed, minGap: minGap, weights: weights)
                r.log.info("\(scored.count) prompt(s) scored, \(pairs.pairs.count) pair(s) kept, \(pairs.dropped) dropped, \(failed.count) failed")
                try ctx.metric("pairs_kept", step: 0, Double(pairs.pairs.count))
                try ctx.metric("pairs_dropped", step: 0, Double(pairs.dropped))
                return [
                    try r.writeArtifact(Data(PoolReports.csv(scored, scorers: scorer.available).utf8), name: "scores.csv", kind: "scores"),
                    try r.writeArtifact(try PoolJSON.encode(scored), name: "scores.json", kind: "scores"),
                    try r.writeArtifact(try PoolJSON.encode(pairs), name: "pairs.json", kind: "pairs"),
                    try r.writeArtifact(try PoolJSON.encode(PoolReports.patchDPOPairs(scored)), name: "patchdpo-pairs.json", kind: "patchdpo-pairs"),
                ]
            }
            if failedCount > 0 {
                throw StageError.itemsFailed(stage: r.stage, failed: failedCount, firstError: "see pairs.json `failed`")
            }
            _ = summary
        }
    }
}

ScoreAndPair.main()
