import ArgumentParser
import Foundation
import Generation
import Models
import NN
import Random
import StageKit
import Training
import World

/// `pretrain clip-judge`: the bench's CLIP stand-in (MODELS.md "Judges", never used by the pipeline).
/// A `CLIPModel` (same code as pretrain-clip, its own seed) trained contrastively on VALIDATION
/// subjects; a row's prompt is the comprehensive caption (colour, pattern, decal, place) with
/// probability `attribute_fraction`, else a plain one, so attribute prompts are measurable. The
/// tokenizer is the world one with `max_tokens` ids (a comprehensive caption needs up to 17).
/// Output `clip-judge.safetensors` (HF CLIPModel keys, kind `checkpoint/clip`) + `clip-judge.json`
/// (record with `clip` and `tokenizerWords`). Gate: text->image top-1 on a TEST batch of 64:
/// `retrieval_top1` / `retrieval_top1_exact` with plain prompts (as pretrain-clip),
/// `attribute_retrieval_top1` (an image with the same caption) / `attribute_retrieval_top1_exact`
/// with comprehensive captions, and `retrieval_chance` = 1/64.
struct CLIPJudgeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "clip-judge",
                                                    abstract: "Pretrain the bench's CLIP-style judge ([pretrain-clip-judge]).")

    static let definition = StageDefinition(
        name: "pretrain-clip-judge",
        schema: ConfigSchema(section: "pretrain-clip-judge", keys: commonKeys(steps: 400, batch: 64, lr: 5e-4, warmup: 40, checkpointEvery: 100)
                             + CLIPCommand.modelKeys + [
            ConfigKey("attribute_fraction", .float, default: .float(0.5), doc: "share of rows captioned with colour, pattern and decal"),
            .integer("max_tokens", default: 20, doc: "token ids per prompt incl. <bos>/<eos> (comprehensive captions need up to 17)", in: 3...64),
            .integer("gate_batch", default: 64, doc: "test renders in the retrieval gate", in: 2...4096),
        ]),
        codeVersion: codeVersionPrefix + "-clip-judge")

    @OptionGroup var common: CommonOptions

    func run() throws {
        let out = PretrainOutput(weightsName: "clip-judge.safetensors", kind: "checkpoint/clip")
        try runPretrainStage(Self.definition, options: common, output: out) { r, ctx in
            let c = r.config
            let tok = WorldText.tokenizer(maxLength: c.int("max_tokens"))
            let cfg = CLIPCommand.config(c, tokenizer: tok)
            let settings = trainSettings(r)
            let clip = try CLIPModel(config: cfg, key: RNGKey(seed: settings.seed).fold(in: "init"))
            let task = CLIPContrastiveTask(clip: clip, tokenizer: tok, data: dataConfig(r, split: .validation), seed: settings.seed,
                                           batchSize: settings.batchSize, attributeFraction: Float(c.double("attribute_fraction")))
            let trainer = Trainer(task: task, settings: settings)
            try trainWithCheckpoints(ctx, trainer: trainer)
            trainer.applyEMA()
            let n = c.int("gate_batch")
            let plain = try Gates.retrievalTop1(clip, tokenizer: tok, resolution: cfg.vision.imageSize, seed: settings.seed &+ 1,
                                                batchSize: n, split: .test)
            let attr = try Gates.retrievalTop1(clip, tokenizer: tok, resolution: cfg.vision.imageSize, seed: settings.seed &+ 1,
                                               batchSize: n, split: .test, attributeCaptions: true)
            var training = settings.asRecord
            training["task"] = "contrastive (symmetric InfoNCE), validation subjects, plain + comprehensive captions"
            training["attribute_fraction"] = "\(c.double("attribute_fraction"))"
            var rec = PretrainRecord(stage: r.stage, codeVersion: Self.definition.codeVersion, seed: settings.seed,
                                     steps: settings.steps, resolution: cfg.vision.imageSize, weightsFile: "", weightsSHA256: "",
                                     training: training,
                                     metrics: ["retrieval_top1": plain.content, "retrieval_top1_exact": plain.exact,
                                               "attribute_retrieval_top1": attr.content, "attribute_retrieval_top1_exact": attr.exact,
                                               "retrieval_chance": 1 / Double(n),
                                               "logit_scale": Double(clip.logitScale.value.scalars[0])])
            rec.clip = cfg
            rec.tokenizerWords = tok.words
            return try writeOutputs(ctx, weights: clip.stateDict(), output: out, record: rec)
        }
    }
}
