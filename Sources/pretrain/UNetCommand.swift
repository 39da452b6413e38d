import ArgumentParser
import Checkpoint
import Diffusion
import Foundation
import Imaging
import Manifest
import Models
import NN
import Pretrained
import Random
import StageKit
import Training
import World

/// `pretrain unet`: the base text-to-image U-Net (text conditioning only; the image branch is off)
/// on "a {object} in the {background}" renders, text encoder = pretrain-clip's, frozen.
/// Output `unet.safetensors` (diffusers keys, kind `checkpoint/unet`) + `unet.json`.
/// Gate (when this run has a finished pretrain-vit): the share of text-only samples, one per
/// (background, category), that the pretrained ViT classifies as the requested category
/// (`category_accuracy`, goal >= 0.8), and a grid `unet-samples.png` (kind `grid`).
struct UNetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "unet", abstract: "Pretrain the base text-to-image U-Net ([pretrain-unet]).",
                                                    discussion: definition.help(items: false))

    static let definition = StageDefinition(
        name: "pretrain-unet",
        schema: ConfigSchema(section: "pretrain-unet", keys: commonKeys(steps: 1500, batch: 16, lr: 5e-4, warmup: 50, checkpointEvery: 100) + [
            ConfigKey("channels", .array(.integer), default: .array([.integer(32), .integer(64), .integer(64)]),
                      doc: "block_out_channels ([32, 64, 64] = xs, [64, 128, 128] = MODELS.md default)"),
            .integer("layers_per_block", default: 2, doc: "resnets per level", in: 1...8),
            .integer("heads", default: 4, doc: "attention heads", in: 1...64),
            ConfigKey("text_dropout", .float, default: .float(0.1), doc: "probability of the empty prompt (CFG)"),
            .integer("gate_steps", default: 25, doc: "DDIM steps of the gate's samples", in: 0...1000),
            ConfigKey("gate_guidance", .float, default: .float(5.0), doc: "CFG scale of the gate's samples"),
            ConfigKey("latent", .bool, default: .bool(false),
                      doc: "latent diffusion: denoise pretrain-vae's scaled latents instead of pixels (the record names the autoencoder)"),
            ConfigKey("class_embedding", .bool, default: .bool(false),
                      doc: "add the mean-pooled text states, projected, to the time embedding (diffusers class_embed_type \"projection\"; Imagen's pooled text)",
                      optIn: true),
            .float("object_weight", default: 0, doc: "extra loss weight of the cells the object covers (world masks); 0 = plain mean",
                   in: 0...100, optIn: true),
            .float("snr_gamma", default: 0, doc: "min-SNR-gamma loss weighting (Hang et al. 2023; 5 is theirs); 0 = plain MSE", in: 0...1000),
            ConfigKey("train_text_encoder", .bool, default: .bool(false),
                      doc: "fine-tune CLIP's text tower with the U-Net (as Imagen-style training of the prompt encoder); the tuned tower "
                          + "is written as unet-text-model.safetensors, named in unet.json, and every generator built from this U-Net reads it",
                      optIn: true),
            ConfigKey("init_from", .string, default: .string(""),
                      doc: "start from this unet.safetensors (its unet.json beside it: the same U-Net, a class embedding may be added) "
                          + "or from a training checkpoint directory of pretrain-unet (checkpoints/step-N: its EMA weights, the same U-Net) "
                          + "instead of a random init, with the source's tuned text tower when it has one; \"\" = random", optIn: true),
            .integer("curve_every", default: 0, doc: "measure the gate (EMA weights) every K steps: the learning curve; 0 = only at the end",
                     in: 0...1_000_000, affectsOutput: false),
        ]),
        sourceFingerprint: BuildSources.fingerprint,
        upstream: ["pretrain-clip"])

    /// The tuned text tower's file (`train_text_encoder`), beside unet.safetensors.
    static let textEncoderName = "unet-text-model.safetensors"

    @OptionGroup var common: CommonOptions

    func run() throws {
        let out = PretrainOutput(weightsName: "unet.safetensors", kind: "checkpoint/unet")
        try runPretrainStage(Self.definition, options: common, output: out, prepare: { r in
            let clipFiles = try requiredUpstream(r, stage: "pretrain-clip", name: "clip.safetensors")
            guard r.config.bool("latent") else { return (try r.allUpstreamOutputs(), (clipFiles, UpstreamFiles?.none)) }
            let vaeFiles = try requiredUpstream(r, stage: "pretrain-vae", name: "vae.safetensors")
            return (try r.allUpstreamOutputs() + r.upstreamOutputs("pretrain-vae"), (clipFiles, vaeFiles))
        }) { r, ctx, prepared in
            let (clipFiles, vaeFiles) = prepared
            let c = r.config
            let clip = try PretrainedModels.loadCLIP(weights: clipFiles.weights, record: clipFiles.record)
            let vae = try vaeFiles.map { try PretrainedModels.loadVAE(weights: $0.weights, record: $0.record) }
            let channels = c.ints("channels")
            let io = vae?.config.latentChannels ?? 3
            let cfg = UNetConfig(inChannels: io, outChannels: io, blockOutChannels: channels, layersPerBlock: c.int("layers_per_block"),
                                 crossAttentionDim: clip.config.text.width, heads: c.int("heads"),
                                 classEmbedInputDim: c.bool("class_embedding") ? clip.config.text.width : nil)
            let settings = trainSettings(r)
            let noise = NoiseConfig()
            let unet = try UNet2DConditionModel(config: cfg, key: RNGKey(seed: settings.seed).fold(in: "init"))
            let initFrom = c.string("init_from")
            let initSHA = initFrom.isEmpty ? nil : try WarmStart.unet(unet, text: c.bool("train_text_encoder") ? clip.textModel : nil, from: URL(fileURLWithPath: initFrom), stage: r.stage)
            let task = UNetDenoisingTask(unet: unet, textEncoder: clip.textModel, schedule: noise.schedule, data: dataConfig(r),
                                         seed: settings.seed, batchSize: settings.batchSize, textDropout: Float(c.double("text_dropout")),
                                         vae: vae, snrGamma: Float(c.double("snr_gamma")), objectWeight: Float(c.double("object_weight")),
                                         trainTextEncoder: c.bool("train_text_encoder"))
            let trainer = Trainer(task: task, settings: settings)
            let measure = { (judge: WorldJudge) throws -> (metrics: [String: Double], sheet: Image) in
                let u = try GateRuns.unet(textEncoder: clip.textModel, unet: unet, vae: vae, schedule: noise.schedule, judge: judge,
                                          resolution: c.int("resolution"), steps: c.int("gate_steps"), guidance: Float(c.double("gate_guidance")),
                                          stageSeed: settings.seed)
                return (u.metrics, u.sheet)
            }
            let curve = try curveMeasurement(r, sheet: "unet-samples", keep: { !$0.hasSuffix("_real_renders") && $0 != "samples" },
                                             measure: measure)
            try trainWithCheckpoints(ctx, trainer: trainer, curveEvery: curve == nil ? 0 : c.int("curve_every"), curve: curve)
            trainer.applyEMA()
            let gate = try runStageGate(r, what: "category", measure: measure)
            var rec = PretrainRecord(stage: r.stage, codeVersion: r.codeVersion, seed: settings.seed,
                                     steps: settings.trainedSteps, resolution: c.int("resolution"), weightsFile: "", weightsSHA256: "",
                                     training: settings.asRecord.merging(["text_dropout": "\(c.double("text_dropout"))",
                                                                          "snr_gamma": "\(c.double("snr_gamma"))",
                                                                          "object_weight": "\(c.double("object_weight"))"]
                                                                         .merging(initSHA.map { ["init_from_sha256": $0] } ?? [:]) { a, _ in a }) { a, _ in a },
                                     metrics: gate.metrics)
            rec.unet = cfg
            rec.vae = vae?.config
            rec.noise = noise
            rec.tokenizerWords = WorldText.tokenizer().words
            var text: [NewArtifact] = []
            if c.bool("train_text_encoder") {
                let t = try r.writeArtifact(SafeTensors.encode(clip.textModel.standaloneFile()), name: Self.textEncoderName,
                                            kind: "checkpoint/text-model")
                rec.textEncoderFile = Self.textEncoderName
                rec.textEncoderSHA256 = t.sha256
                text = [t]
            }
            var outs = try writeOutputs(ctx, weights: unet.stateDict(), output: out, record: rec) + text
            if let png = gate.sheetPNG { outs.append(try r.writeArtifact(png, name: "unet-samples.png", kind: "grid")) }
            outs += try r.writtenArtifacts(in: "curve", kind: "grid")
            return outs
        }
    }
}
