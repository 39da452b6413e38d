import ArgumentParser
import Foundation
import Models
import NN
import Pretrained
import Random
import StageKit
import Text
import Training
import World

/// `pretrain clip`: the CLIP-style text/image pair, trained contrastively on (render, prompt) pairs.
/// Output `clip.safetensors`: ONE file with HF `CLIPModel` keys (`text_model.*` is the generator's
/// text encoder, `vision_model.*` its image encoder, plus `visual_projection`, `text_projection`,
/// `logit_scale`), kind `checkpoint/clip`, and `clip.json`. Gate: text->image top-1 retrieval on a
/// validation batch of 64 (`retrieval_top1` counts an image of the prompt's category and background;
/// `retrieval_top1_exact` only the paired image).
struct CLIPCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "clip", abstract: "Pretrain the CLIP text/image pair ([pretrain-clip]).",
                                                    discussion: definition.help(items: false))

    static let definition = StageDefinition(
        name: "pretrain-clip",
        schema: ConfigSchema(section: "pretrain-clip", keys: commonKeys(steps: 400, batch: 64, lr: 5e-4, warmup: 40, checkpointEvery: 100)
                             + modelKeys),
        sourceFingerprint: BuildSources.fingerprint)

    /// The model-shape keys (shared with `pretrain clip-judge`).
    static let modelKeys: [ConfigKey] = [
        .integer("vision_width", default: 96, doc: "image tower width", in: 8...4096),
        .integer("vision_depth", default: 6, doc: "image tower blocks", in: 2...64),
        .integer("vision_heads", default: 3, doc: "image tower heads", in: 1...64),
        .integer("vision_mlp", default: 384, doc: "image tower MLP width", in: 8...16384),
        .integer("text_width", default: 128, doc: "text width (= U-Net cross-attention width)", in: 8...4096),
        .integer("text_depth", default: 2, doc: "text blocks", in: 1...64),
        .integer("text_heads", default: 4, doc: "text heads", in: 1...64),
        .integer("text_mlp", default: 512, doc: "text MLP width", in: 8...16384),
        .integer("embed_dim", default: 128, doc: "shared embedding width", in: 4...4096),
    ]

    @OptionGroup var common: CommonOptions

    static func config(_ c: ConfigSection, tokenizer tok: WordTokenizer = WorldText.tokenizer()) -> CLIPConfig {
        let vision = ViTConfig(imageSize: c.int("resolution"), patchSize: 4, width: c.int("vision_width"), depth: c.int("vision_depth"),
                               heads: c.int("vision_heads"), mlpDim: c.int("vision_mlp"))
        let text = TextEncoderConfig(vocabSize: max(128, tok.vocabularySize), maxLength: tok.maxLength, width: c.int("text_width"),
                                     depth: c.int("text_depth"), heads: c.int("text_heads"), mlpDim: c.int("text_mlp"))
        return CLIPConfig(vision: vision, text: text, embedDim: c.int("embed_dim"))
    }

    func run() throws {
        let out = PretrainOutput(weightsName: "clip.safetensors", kind: "checkpoint/clip")
        try runPretrainStage(Self.definition, options: common, output: out) { r, ctx in
            let cfg = Self.config(r.config)
            let settings = trainSettings(r)
            let tok = WorldText.tokenizer()
            let clip = try CLIPModel(config: cfg, key: RNGKey(seed: settings.seed).fold(in: "init"))
            let task = CLIPContrastiveTask(clip: clip, tokenizer: tok, data: dataConfig(r), seed: settings.seed, batchSize: settings.batchSize)
            let trainer = Trainer(task: task, settings: settings)
            try trainWithCheckpoints(ctx, trainer: trainer)
            trainer.applyEMA()
            let ret = try Gates.retrievalTop1(clip, tokenizer: tok, resolution: cfg.vision.imageSize, seed: settings.seed &+ 1)
            var rec = PretrainRecord(stage: r.stage, codeVersion: r.codeVersion, seed: settings.seed,
                                     steps: settings.trainedSteps, resolution: cfg.vision.imageSize, weightsFile: "", weightsSHA256: "",
                                     training: settings.asRecord,
                                     metrics: ["retrieval_top1": ret.content, "retrieval_top1_exact": ret.exact,
                                               "logit_scale": Double(clip.logitScale.value.scalars[0])])
            rec.clip = cfg
            rec.tokenizerWords = tok.words
            return try writeOutputs(ctx, weights: clip.stateDict(), output: out, record: rec)
        }
    }
}
