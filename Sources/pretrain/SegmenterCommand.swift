import ArgumentParser
import Foundation
import Imaging
import Models
import Pretrained
import Random
import StageKit
import Training

/// `pretrain segmenter`: the foreground segmenter of generated images (issue 16; METHODS 2's foreground
/// estimator, `fg_generated = "segmenter"` in patch-quality), a small fully-convolutional encoder-decoder
/// (`Segmenter`) trained on world renders of TRAINING subjects with their ground-truth object masks, under
/// `GeneratedLookAugmentation` so it transfers to the generator's noisy, blotchy samples (`SegmenterTask`).
/// Gate (`SegmenterGate`, on TEST-subject renders): object IoU (target 0.9), cell accuracy at the
/// patch-quality grid, the same under augmentation, and the border estimator's numbers beside them.
/// Output `segmenter.safetensors` (kind `checkpoint/segmenter`), `segmenter.json` (record, config under
/// `segmenter`), `segmenter-samples.png` (render | truth | mask | augmented | its mask | border's mask).
struct SegmenterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "segmenter",
                                                    abstract: "Pretrain the foreground segmenter of generated images ([pretrain-segmenter]).",
                                                    discussion: definition.help(items: false))

    static let definition = StageDefinition(
        name: "pretrain-segmenter",
        schema: ConfigSchema(section: "pretrain-segmenter", keys: commonKeys(steps: 1000, batch: 32, lr: 2e-3, warmup: 50, checkpointEvery: 100) + [
            ConfigKey("channels", .array(.integer), default: .array([16, 32, 32, 32].map { .integer($0) }),
                      doc: "width of each level, full resolution first (each further level halves the side)"),
            cleanFractionKey(default: 0.2, doc: "probability of the clean background (the rest textured)"),
            .float("dice_weight", default: 0.5, doc: "weight of the dice term beside the per-pixel BCE", in: 0...100),
            .float("augment", default: 1, doc: "strength of the generated-look augmentation (noise, blotches, blur, colour); 0 = off",
                   in: 0...3),
            .float("augment_fraction", default: 0.8, doc: "share of training renders augmented", in: 0...1),
            .float("scale_min", default: 0.22, doc: "smallest object half-size (fraction of the side) of the training poses", in: 0.05...1),
            .float("scale_max", default: 0.48, doc: "largest object half-size of the training poses", in: 0.05...1),
            .integer("gate_images", default: 256, doc: "test-subject renders the gate measures on", in: 1...100_000),
            .integer("gate_patch", default: 4, doc: "cell side of the gate's cell accuracy (the ViT's patch)", in: 1...64),
            .float("gate_cell_threshold", default: 0.25, doc: "a cell is foreground when more than this share of its pixels is",
                   in: 0...1),
            .integer("curve_every", default: 250, doc: "measure the gate every K steps (learning curve; 0 = only at the end)",
                     in: 0...1_000_000, affectsOutput: false),
        ]),
        sourceFingerprint: BuildSources.fingerprint)

    @OptionGroup var common: CommonOptions

    func run() throws {
        let out = PretrainOutput(weightsName: "segmenter.safetensors", kind: "checkpoint/segmenter")
        try runPretrainStage(Self.definition, options: common, output: out) { r, ctx in
            let c = r.config
            let cfg = SegmenterConfig(channels: c.ints("channels"))
            let settings = trainSettings(r)
            let segmenter = try Segmenter(config: cfg, key: RNGKey(seed: settings.seed).fold(in: "init"))
            var data = dataConfig(r)
            data.cleanFraction = c.double("clean_fraction")
            guard data.resolution % cfg.downsampleFactor == 0 else {
                throw TrainingError.invalidSetting(field: "resolution", reason: "\(data.resolution) is not a multiple of 2^(levels - 1) = \(cfg.downsampleFactor)")
            }
            let (lo, hi) = (Float(c.double("scale_min")), Float(c.double("scale_max")))
            guard lo <= hi else { throw TrainingError.invalidSetting(field: "scale_min", reason: "\(lo) exceeds scale_max \(hi)") }
            let augmentation = GeneratedLookAugmentation(strength: Float(c.double("augment")), fraction: Float(c.double("augment_fraction")))
            let task = SegmenterTask(segmenter: segmenter, data: data, seed: settings.seed, batchSize: settings.batchSize,
                                     augmentation: augmentation, diceWeight: Float(c.double("dice_weight")), scaleRange: lo...hi)
            let patch = c.int("gate_patch")
            guard data.resolution % patch == 0 else {
                throw TrainingError.invalidSetting(field: "gate_patch", reason: "\(patch) does not divide the resolution \(data.resolution)")
            }
            let gate = { (rows: Int) throws -> SegmenterGate.Result in
                try SegmenterGate.measure(segmenter, resolution: data.resolution, seed: settings.seed &+ 1, images: c.int("gate_images"),
                                          patch: patch, cellThreshold: Float(c.double("gate_cell_threshold")),
                                          augmentation: GeneratedLookAugmentation(strength: max(augmentation.strength, 1), fraction: 1),
                                          sheetRows: rows)
            }
            let trainer = Trainer(task: task, settings: settings)
            try trainWithCheckpoints(ctx, trainer: trainer, curveEvery: c.int("curve_every")) { _ in
                let m = try gate(0).metrics
                return ["iou": m["iou"] ?? 0, "iou_augmented": m["iou_augmented"] ?? 0, "cell_accuracy": m["cell_accuracy"] ?? 0]
            }
            trainer.applyEMA()
            let final = try gate(12)
            var metrics = final.metrics
            metrics["parameters"] = Double(segmenter.parameterCount)
            for (name, target) in SegmenterGate.targets {
                r.log.info("gate " + GateCheck(metric: name, target: target, value: metrics[name]).line)
            }
            var training = settings.asRecord
            training["task"] = "per-pixel BCE + dice_weight x (1 - dice) against the renderer's object coverage, train subjects, "
                + "generated-look augmentation"
            var rec = PretrainRecord(stage: r.stage, codeVersion: r.codeVersion, seed: settings.seed,
                                     steps: settings.trainedSteps, resolution: data.resolution, weightsFile: "", weightsSHA256: "",
                                     training: training, metrics: metrics)
            rec.segmenter = cfg
            var outs = try writeOutputs(ctx, weights: segmenter.stateDict(), output: out, record: rec)
            let sheet = Gates.grid(rows: final.rows, captions: ["render", "truth", "mask", "augmented", "mask", "border"], scale: 3,
                                   title: "segmenter: test subjects")
            outs.append(try r.writeArtifact(Data(try PNG.encode(sheet)), name: "segmenter-samples.png", kind: "grid"))
            return outs
        }
    }
}
