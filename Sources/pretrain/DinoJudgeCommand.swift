import ArgumentParser
import Foundation
import Generation
import Models
import NN
import Random
import StageKit
import Training
import World

/// `pretrain dino-judge`: the bench's DINO stand-in (MODELS.md "Judges", never used by the pipeline).
/// A ViT without head (timm keys, the pipeline ViT's code; its own seed) trained by instance
/// discrimination on VALIDATION subjects: each step draws `batch` subjects (groups of `per_category`
/// from one category) x 2 views in different scenes and poses; InfoNCE at `temperature` on the
/// L2-normalised final class token, optionally through a projection head that is not saved.
/// Output `dino-judge.safetensors` (kind `checkpoint/vit`) + `dino-judge.json` (record with `vit`,
/// `classes` nil). Gate on TEST subjects (`Gates.instanceRetrieval`): `instance_top1` over
/// 13 x `gate_subjects_per_category` clean references, `instance_top1_same_category`, and their chance levels.
struct DinoJudgeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "dino-judge",
                                                    abstract: "Pretrain the bench's DINO-style judge ViT ([pretrain-dino-judge]).")

    static let definition = StageDefinition(
        name: "pretrain-dino-judge",
        schema: ConfigSchema(section: "pretrain-dino-judge", keys: commonKeys(steps: 600, batch: 16, lr: 5e-4, warmup: 30, checkpointEvery: 100) + vitShapeKeys() + [
            .integer("per_category", default: 2, doc: "subjects of one category per group in a batch (hard negatives); batch = subjects, 2 views each", in: 1...1000),
            ConfigKey("temperature", .float, default: .float(0.1), doc: "InfoNCE temperature"),
            .integer("proj_dim", default: 0, doc: "projection head output width during training (0 = none; never saved)", in: 0...4096),
            cleanFractionKey(default: 0.2, doc: "probability that a view uses the clean background"),
            .integer("gate_subjects_per_category", default: 4, doc: "test subjects per category in the gate's gallery", in: 2...1000),
            .integer("gate_queries", default: 2, doc: "query renders per gallery subject", in: 1...100),
        ]),
        codeVersion: codeVersionPrefix + "-dino-judge")

    @OptionGroup var common: CommonOptions

    func run() throws {
        let out = PretrainOutput(weightsName: "dino-judge.safetensors", kind: "checkpoint/vit")
        try runPretrainStage(Self.definition, options: common, output: out) { r, ctx in
            let c = r.config
            let cfg = vitConfig(c)
            let settings = trainSettings(r)
            let key = RNGKey(seed: settings.seed)
            let vit = try ViT(config: cfg, key: key.fold(in: "init"))
            let proj = c.int("proj_dim") > 0 ? ProjectionHead(width: cfg.width, output: c.int("proj_dim"), key: key.fold(in: "projection")) : nil
            var data = dataConfig(r, split: .validation)
            data.cleanFraction = c.double("clean_fraction")
            let task = InstanceDiscriminationTask(vit: vit, projection: proj, data: data, seed: settings.seed,
                                                  subjects: settings.batchSize, perCategory: c.int("per_category"),
                                                  temperature: Float(c.double("temperature")))
            let trainer = Trainer(task: task, settings: settings)
            try trainWithCheckpoints(ctx, trainer: trainer)
            trainer.applyEMA()
            let gate = try Gates.instanceRetrieval(embed: Gates.classTokenEmbedding(vit), resolution: cfg.imageSize, seed: settings.seed &+ 1,
                                                   subjectsPerCategory: c.int("gate_subjects_per_category"),
                                                   queriesPerSubject: c.int("gate_queries"))
            var training = settings.asRecord
            training["task"] = "instance discrimination (InfoNCE), validation subjects"
            for k in ["per_category", "proj_dim"] { training[k] = "\(c.int(k))" }
            for k in ["temperature", "clean_fraction"] { training[k] = "\(c.double(k))" }
            var rec = PretrainRecord(stage: r.stage, codeVersion: Self.definition.codeVersion, seed: settings.seed,
                                     steps: settings.steps, resolution: cfg.imageSize, weightsFile: "", weightsSHA256: "",
                                     training: training, metrics: gate.metrics)
            rec.vit = cfg
            return try writeOutputs(ctx, weights: vit.stateDict(), output: out, record: rec)
        }
    }
}
