import ArgumentParser
import Checkpoint
import Manifest
import Foundation
import Models
import NN
import Pretrained
import Random
import StageKit
import Training
import World

/// `pretrain judge`: the bench's judges (issue 14; MODELS.md "Judges", never used by the pipeline).
/// One ResNet tower on VALIDATION subjects (after the first `subject_offset`, which the bench's
/// validation split tunes on) with attribute heads (category, colours, patterns, decal, decal colour,
/// background: the world's truth as labels), a DINO-stand-in embedding (instance discrimination of two
/// views in different scenes and poses) and a CLIP-stand-in image projection against a text tower
/// (plain and comprehensive captions). `WorldJudgeTask` has the loss. Output `judge.safetensors` (kind
/// `checkpoint/judge`) + `judge.json` (record with `judge` and `tokenizerWords`). Gates on TEST subjects
/// (`WorldJudgeGates`), with the learning curve of the same metrics every `curve_every` steps.
struct JudgeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "judge",
                                                    abstract: "Pretrain the bench's attribute, DINO and CLIP judges ([pretrain-judge]).",
                                                    discussion: definition.help(items: false))

    static let definition = StageDefinition(
        name: "pretrain-judge",
        schema: ConfigSchema(section: "pretrain-judge", keys: commonKeys(steps: 3000, batch: 64, lr: 2e-3, warmup: 100, checkpointEvery: 100) + [
            ConfigKey("widths", .array(.integer), default: .array([32, 64, 128, 256].map { .integer($0) }), doc: "ResNet stage widths"),
            ConfigKey("blocks", .array(.integer), default: .array([1, 1, 1, 1].map { .integer($0) }), doc: "basic blocks per stage"),
            .integer("groups", default: 8, doc: "GroupNorm groups", in: 1...256),
            .integer("embed_dim", default: 128, doc: "DINO-stand-in embedding width", in: 1...4096),
            .integer("clip_dim", default: 128, doc: "CLIP-stand-in embedding width", in: 1...4096),
            .integer("per_category", default: 4, doc: "subjects of one category per group in a batch (hard negatives); batch = subjects, 2 views each", in: 1...1000),
            .integer("subject_offset", default: 1000, doc: "validation subjects per category skipped (the bench tunes on the first ones)", in: 0...1_000_000),
            .float("temperature", default: 0.1, doc: "instance-discrimination InfoNCE temperature", in: 0.001...10),
            .float("caption_fraction", default: 0.5, doc: "share of rows captioned with colour, pattern and decal", in: 0...1),
            .float("w_attributes", default: 1, doc: "weight of the attribute cross-entropies", in: 0...100),
            .float("w_instance", default: 1, doc: "weight of the instance-discrimination loss", in: 0...100),
            .float("w_clip", default: 1, doc: "weight of the CLIP contrastive loss", in: 0...100),
            cleanFractionKey(default: 0.2, doc: "probability that a view uses the clean background"),
            .integer("max_tokens", default: 20, doc: "token ids per caption incl. <bos>/<eos> (comprehensive captions need up to 17)", in: 3...64),
            .integer("gate_subjects_per_category", default: 4, doc: "test subjects per category in the gates", in: 2...1000),
            .integer("gate_views", default: 4, doc: "scene renders per gate subject", in: 2...10),
            ConfigKey("init_from", .string, default: .string(""),
                      doc: "start from this judge.safetensors (its judge.json beside it must have the same model config) instead of a random init; \"\" = random"),
            .integer("curve_every", default: 250, doc: "measure the gates every K steps (learning curve; 0 = only at the end)", in: 0...1_000_000,
                     affectsOutput: false),
        ]),
        sourceFingerprint: BuildSources.fingerprint)

    @OptionGroup var common: CommonOptions

    func run() throws {
        let out = PretrainOutput(weightsName: "judge.safetensors", kind: "checkpoint/judge")
        try runPretrainStage(Self.definition, options: common, output: out) { r, ctx in
            let c = r.config
            let tok = WorldText.tokenizer(maxLength: c.int("max_tokens"))
            let cfg = JudgeConfig(tower: ResNetConfig(imageSize: c.int("resolution"), widths: c.ints("widths"), blocks: c.ints("blocks"),
                                                      groups: c.int("groups")),
                                  heads: JudgeLabels.heads, embedDim: c.int("embed_dim"), clipDim: c.int("clip_dim"),
                                  text: TextEncoderConfig(vocabSize: tok.vocabularySize, maxLength: c.int("max_tokens")))
            let settings = trainSettings(r)
            let judge = try WorldJudge(config: cfg, key: RNGKey(seed: settings.seed).fold(in: "init"))
            let initFrom = c.string("init_from")
            var initSHA: String?
            if !initFrom.isEmpty { initSHA = try WarmStart.judge(judge, from: URL(fileURLWithPath: initFrom), stage: r.stage) }
            var data = dataConfig(r, split: .validation)
            data.cleanFraction = c.double("clean_fraction")
            data.subjectOffset = c.int("subject_offset")
            let task = WorldJudgeTask(judge: judge, tokenizer: tok, data: data, seed: settings.seed, subjects: settings.batchSize,
                                      perCategory: c.int("per_category"), temperature: Float(c.double("temperature")),
                                      captionFraction: Float(c.double("caption_fraction")),
                                      weights: JudgeLossWeights(attributes: Float(c.double("w_attributes")),
                                                                instance: Float(c.double("w_instance")), clip: Float(c.double("w_clip"))))
            let trainer = Trainer(task: task, settings: settings)
            let gate = { () throws -> [String: Double] in
                try WorldJudgeGates.measure(judge, tokenizer: tok, seed: settings.seed &+ 1,
                                            perCategory: c.int("gate_subjects_per_category"), views: c.int("gate_views"),
                                            threads: max(1, r.run.threads))
            }
            try trainWithCheckpoints(ctx, trainer: trainer, curveEvery: c.int("curve_every")) { _ in try gate() }
            trainer.applyEMA()
            var metrics = try gate()
            metrics["parameters"] = Double(judge.tower.parameterCount)
            for check in WorldJudgeGates.checks(metrics) { r.log.info("gate " + check.line) }
            var training = settings.asRecord
            training["task"] = "attribute CE + instance InfoNCE + CLIP InfoNCE, validation subjects from subject_offset"
            training["rows_seen"] = "\(2 * settings.trainedSteps * settings.batchSize)" + (initSHA == nil ? "" : " (after the init_from judge's)")
            if let initSHA { training["init_from_sha256"] = initSHA }
            var rec = PretrainRecord(stage: r.stage, codeVersion: r.codeVersion, seed: settings.seed,
                                     steps: settings.trainedSteps, resolution: cfg.tower.imageSize, weightsFile: "", weightsSHA256: "",
                                     training: training, metrics: metrics)
            rec.judge = cfg
            rec.tokenizerWords = tok.words
            return try writeOutputs(ctx, weights: judge.stateDict(), output: out, record: rec)
        }
    }
}
