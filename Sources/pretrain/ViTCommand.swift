import ArgumentParser
import Foundation
import Models
import NN
import Pretrained
import Random
import StageKit
import Training
import World

/// `pretrain vit`: the patch-feature ViT, trained by object-category classification on world renders.
/// Output `vit.safetensors` (timm keys incl. `head.*`, kind `checkpoint/vit`) + `vit.json` (record).
/// Gate: top-1 on validation subjects (`val_top1`).
struct ViTCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "vit", abstract: "Pretrain the ViT by category classification ([pretrain-vit]).",
                                                    discussion: definition.help(items: false))

    static let definition = StageDefinition(
        name: "pretrain-vit",
        schema: ConfigSchema(section: "pretrain-vit", keys: commonKeys(steps: 600, batch: 32, lr: 1e-3, warmup: 50, checkpointEvery: 100) + vitShapeKeys() + [
            cleanFractionKey(default: 0.1,
                             doc: "share of training renders on the clean background (the rest textured); textured-only data stalls at chance"),
            ConfigKey("foreground_weight", .float, default: .float(0),
                      doc: "weight of the figure-ground auxiliary loss (per-patch object coverage from the renderer's mask; head not saved); 0 = off",
                      check: { v in
                          if case let .float(x) = v, x < 0 { return "\(x) must be >= 0" }
                          return nil
                      }),
            ConfigKey("pool", .string, default: .string("token"),
                      doc: "what the head reads: token (class token) | avg (mean patch token, timm global_pool avg)",
                      check: { v in
                          if case let .string(x) = v, ViTPool(rawValue: x) == nil {
                              return "\"\(x)\" is not one of \(ViTPool.allCases.map(\.rawValue).joined(separator: ", "))"
                          }
                          return nil
                      }),
            ConfigKey("stem", .array(.integer), default: .array([]),
                      doc: "channels of a conv stem (3x3 convs + GELU, timm HybridEmbed `patch_embed.backbone`) before the patch projection; [] = none"),
        ]),
        sourceFingerprint: BuildSources.fingerprint)

    @OptionGroup var common: CommonOptions

    func run() throws {
        let out = PretrainOutput(weightsName: "vit.safetensors", kind: "checkpoint/vit")
        try runPretrainStage(Self.definition, options: common, output: out) { r, ctx in
            let c = r.config
            let cfg = vitConfig(c, classes: ObjectCategory.allCases.count, stemChannels: c.ints("stem"), pool: ViTPool(rawValue: c.string("pool"))!)  // the key's check admits only raw values
            let settings = trainSettings(r)
            let vit = try ViT(config: cfg, key: RNGKey(seed: settings.seed).fold(in: "init"))
            var data = dataConfig(r)
            data.cleanFraction = c.double("clean_fraction")
            let task = ViTClassificationTask(vit: vit, data: data, seed: settings.seed, batchSize: settings.batchSize,
                                             foregroundWeight: Float(c.double("foreground_weight")))
            let trainer = Trainer(task: task, settings: settings)
            try trainWithCheckpoints(ctx, trainer: trainer)
            trainer.applyEMA()
            let top1 = try Gates.vitTop1(vit, resolution: cfg.imageSize, seed: settings.seed &+ 1)
            var rec = PretrainRecord(stage: r.stage, codeVersion: r.codeVersion, seed: settings.seed,
                                     steps: settings.trainedSteps, resolution: cfg.imageSize, weightsFile: "", weightsSHA256: "",
                                     training: settings.asRecord, metrics: ["val_top1": top1])
            rec.vit = cfg
            rec.classes = ObjectCategory.allCases.map(\.noun)
            return try writeOutputs(ctx, weights: vit.stateDict(), output: out, record: rec)
        }
    }
}
