import ArgumentParser
import Autograd
import Foundation
import Imaging
import Models
import NN
import Pretrained
import Random
import StageKit
import TensorCore
import Training

/// `pretrain vae`: the latent-diffusion autoencoder (issue 15; diffusers `AutoencoderKL` layout) on
/// the U-Net's data (train subjects, textured and clean scenes, random poses), loss `AutoencoderTask`.
/// After training (EMA weights) the latent scaling factor is measured as 1 / std of the posterior means
/// on `scale_batches` fresh batches (as SD's 0.18215 was) and stored in the record's `vae` config.
/// Gate (`ReconstructionGate`, with the run's pretrain-judge when it has finished): PSNR and what the
/// judge still reads (identity, detail, scene) on reconstructions of TEST-subject renders, with the
/// same metrics every `curve_every` steps as the learning curve. Output `vae.safetensors` (kind
/// `checkpoint/vae`), `vae.json`, and `vae-samples.png` (pairs of real | reconstruction).
struct VAECommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "vae", abstract: "Pretrain the latent-diffusion autoencoder ([pretrain-vae]).",
                                                    discussion: definition.help(items: false))

    static let definition = StageDefinition(
        name: "pretrain-vae",
        schema: ConfigSchema(section: "pretrain-vae", keys: commonKeys(steps: 3000, batch: 32, lr: 1e-3, warmup: 100, checkpointEvery: 200) + [
            ConfigKey("channels", .array(.integer), default: .array([32, 64, 128].map { .integer($0) }),
                      doc: "block_out_channels; the latent side is resolution / 2^(levels - 1)"),
            .integer("latent_channels", default: 4, doc: "latent channels", in: 1...64),
            .integer("layers_per_block", default: 1, doc: "encoder resnets per level (the decoder has one more)", in: 1...8),
            .float("kl_weight", default: 1e-6, doc: "weight of KL(q(z|x) || N(0, I)) (SD: 1e-6)", in: 0...1),
            .float("object_weight", default: 4, doc: "extra weight of object pixels in the reconstruction loss", in: 0...100),
            cleanFractionKey(default: 0.1, doc: "probability of the clean background"),
            .integer("scale_batches", default: 8, doc: "batches of latents the scaling factor is measured on", in: 1...1000),
            .integer("gate_views", default: 4, doc: "scene renders per gate subject (4 test subjects per category)", in: 1...10),
            .integer("curve_every", default: 500, doc: "measure the gate every K steps (learning curve; 0 = only at the end)",
                     in: 0...1_000_000, affectsOutput: false),
        ]),
        sourceFingerprint: BuildSources.fingerprint)

    @OptionGroup var common: CommonOptions

    func run() throws {
        let out = PretrainOutput(weightsName: "vae.safetensors", kind: "checkpoint/vae")
        try runPretrainStage(Self.definition, options: common, output: out) { r, ctx in
            let c = r.config
            var cfg = AutoencoderConfig(latentChannels: c.int("latent_channels"), blockOutChannels: c.ints("channels"),
                                        layersPerBlock: c.int("layers_per_block"))
            let settings = trainSettings(r)
            let vae = try AutoencoderKL(config: cfg, key: RNGKey(seed: settings.seed).fold(in: "init"))
            var data = dataConfig(r)
            data.cleanFraction = c.double("clean_fraction")
            let task = AutoencoderTask(vae: vae, data: data, seed: settings.seed, batchSize: settings.batchSize,
                                       klWeight: Float(c.double("kl_weight")), objectWeight: Float(c.double("object_weight")))
            let judge = try optionalUpstream(r, stage: "pretrain-judge", name: "judge.safetensors").map(loadJudge)
            if judge == nil { r.log.warn("no finished pretrain-judge in this run: the gate measures PSNR only (run `pretrain judge` first)") }
            let gate = { (sheetRows: Int) throws -> ReconstructionGate.Result in
                try ReconstructionGate.measure(vae, judge: judge, resolution: data.resolution, seed: settings.seed &+ 1,
                                               views: c.int("gate_views"), threads: max(1, r.run.threads), sheetRows: sheetRows)
            }
            let trainer = Trainer(task: task, settings: settings)
            try trainWithCheckpoints(ctx, trainer: trainer, curveEvery: c.int("curve_every")) { _ in try gate(0).metrics }
            trainer.applyEMA()
            cfg.scalingFactor = try Self.scalingFactor(vae, data: data, seed: settings.seed, batches: c.int("scale_batches"),
                                                       batchSize: settings.batchSize)
            let final = try gate(8)
            var metrics = final.metrics
            metrics["parameters"] = Double(vae.parameterCount)
            for (name, target) in ReconstructionGate.targets {
                r.log.info("gate " + GateCheck(metric: name, target: target, value: metrics[name]).line)
            }
            r.log.info(String(format: "psnr %.2f dB, psnr_object %.2f dB, scaling factor %.5f", metrics["psnr"] ?? 0,
                              metrics["psnr_object"] ?? 0, Double(cfg.scalingFactor)))
            var training = settings.asRecord
            training["task"] = "Charbonnier reconstruction (object pixels x (1 + object_weight)) + kl_weight x KL, train subjects"
            var rec = PretrainRecord(stage: r.stage, codeVersion: r.codeVersion, seed: settings.seed,
                                     steps: settings.trainedSteps, resolution: data.resolution, weightsFile: "", weightsSHA256: "",
                                     training: training, metrics: metrics)
            rec.vae = cfg
            var outs = try writeOutputs(ctx, weights: vae.stateDict(), output: out, record: rec)
            let sheet = Gates.grid(rows: final.rows, captions: [], scale: 3, title: "autoencoder: real, reconstruction (pairs), test subjects")
            outs.append(try r.writeArtifact(Data(try PNG.encode(sheet)), name: "vae-samples.png", kind: "grid"))
            return outs
        }
    }

    /// 1 / std of the posterior means of `batches` world batches (keyed apart from training's).
    static func scalingFactor(_ vae: AutoencoderKL, data: WorldDataConfig, seed: UInt64, batches: Int, batchSize: Int) throws -> Float {
        vae.train(false)
        var sum = 0.0, sumSq = 0.0, n = 0.0
        for b in 0..<batches {
            let batch = try WorldData.batch(seed: seed &+ 0x5CA1E, step: b, size: batchSize, config: data)
            for v in withNoGrad({ vae.encode(Variable(batch.images)).mean }).value.scalars {
                sum += Double(v); sumSq += Double(v) * Double(v); n += 1
            }
        }
        let variance = max(sumSq / n - (sum / n) * (sum / n), 1e-12)
        return Float(1 / variance.squareRoot())
    }
}
