import ArgumentParser
import Autograd
import TensorCore
import Foundation
import Generation
import Imaging
import Models
import NN
import Pretrained
import Random
import StageKit
import Training
import World

/// `pretrain adapter`: the IP-Adapter analogue (resampler + every to_k_ip/to_v_ip; the U-Net and both
/// CLIP towers frozen), trained by denoising with condition dropout. The reference is the target
/// itself (IP-Adapter, `reference = "same"`) or the subject's clean render (`"clean"`); the resampler
/// reads CLIP's vision tower (`image_encoder = "clip"`) or a convolutional tower trained with the
/// adapter (`"resnet"`, saved as `image_encoder.*` in the adapter file).
/// The image branch starts as a copy of the text branch (IP-Adapter's init), or from `init_from`. With
/// `unet_lr_scale` > 0 the U-Net trains too (gentler) and the adapter file carries it.
/// Output `adapter.safetensors` (`image_proj.*` + `...attn2.to_k_ip/to_v_ip.weight`, kind
/// `checkpoint/adapter`) + `adapter.json`. Gate (with a finished pretrain-vit in the run): cosine of the
/// ViT class token (`adapter_vit_cosine`) and of the CLIP image embedding (`adapter_clip_image_cosine`)
/// between generated and reference images of TEST subjects, each with `..._other_subject` as a floor, and the grid `adapter-samples.png` (kind `grid`).
struct AdapterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "adapter", abstract: "Pretrain the image adapter ([pretrain-adapter]).",
                                                    discussion: definition.help(items: false))

    static let definition = StageDefinition(
        name: "pretrain-adapter",
        schema: ConfigSchema(section: "pretrain-adapter", keys: commonKeys(steps: 600, batch: 16, lr: 3e-4, warmup: 30, checkpointEvery: 100) + [
            .integer("queries", default: 8, doc: "resampler queries (image tokens)", in: 1...256),
            .integer("dim", default: 128, doc: "resampler width", in: 8...4096),
            .integer("depth", default: 2, doc: "resampler layers", in: 1...16),
            .integer("heads", default: 4, doc: "resampler heads (head dim = dim / heads)", in: 1...64),
            .integer("image_layer", default: 0, doc: "image-tower block feeding the resampler (0 = penultimate)", in: 0...64),
            ConfigKey("drop_text", .float, default: .float(0.05), doc: "probability of dropping the text only"),
            ConfigKey("drop_image", .float, default: .float(0.05), doc: "probability of dropping the image only"),
            ConfigKey("drop_both", .float, default: .float(0.05), doc: "probability of dropping both"),
            .integer("gate_steps", default: 25, doc: "DDIM steps of the gate's samples", in: 0...1000),
            ConfigKey("gate_guidance", .float, default: .float(5.0), doc: "CFG scale of the gate's samples"),
            .integer("gate_subjects", default: 8, doc: "test subjects in the gate", in: 1...1000),
            .float("snr_gamma", default: 0, doc: "min-SNR-gamma loss weighting (Hang et al. 2023); 0 = plain MSE", in: 0...1000),
.float("object_weight", default: 0, doc: "extra loss weight of the cells the object covers (world masks); 0 = plain mean",
                   in: 0...100, optIn: true),
            ConfigKey("reference", .string, default: .string("same"),
                      doc: "the reference a row reads: \"same\" (the target, IP-Adapter) or \"clean\" (the subject's clean canonical render)",
                      optIn: true, check: ConfigKey.oneOf(AdapterReference.allCases.map(\.rawValue))),
            ConfigKey("image_encoder", .string, default: .string("clip"),
                      doc: "what the resampler reads: \"clip\" (CLIP's vision tower, frozen) or \"resnet\" (a CNN trained with the adapter)",
                      optIn: true, check: ConfigKey.oneOf(["clip", "resnet"])),
.integer("curve_every", default: 0, doc: "measure the gate (EMA weights) every K steps: the learning curve; 0 = only at the end",
                     in: 0...1_000_000, affectsOutput: false),
            .float("unet_lr_scale", default: 0,
                   doc: "train the U-Net with the adapter at this multiple of lr (0 = frozen, IP-Adapter); the adapter file then holds the tuned "
                       + "U-Net too (record `adapterTunesUNet`) and the personalized generator loads it over the base U-Net", in: 0...100, optIn: true),
            .float("attribute_weight", default: 0,
                   doc: "weight of the resnet reference encoder's world-attribute loss (heads on its pooled tokens predict the reference "
                       + "subject's category, colours, patterns and decal; training aid, not saved); 0 = off", in: 0...100, optIn: true),
            ConfigKey("init_from", .string, default: .string(""),
                      doc: "start from this adapter.safetensors (its adapter.json beside it: the same resampler and reference encoder) or a "
                          + "training checkpoint directory of pretrain-adapter (checkpoints/step-N: its EMA weights), with the source's tuned "
                          + "U-Net when it has one; \"\" = IP-Adapter's init", optIn: true),
            ConfigKey("reference_attention", .bool, default: .bool(false),
                      doc: "train (and gate) with reference attention: each row denoised beside its clean reference, reading the reference's "
                          + "foreground keys in every self-attention (needs reference = \"clean\"); samplers then use reference attention "
                          + "\"conditional\"", optIn: true),
            .integer("reference_timestep", default: -1,
                     doc: "under reference_attention, the timestep the reference is diffused to: min(k, t) (0 = the clean reference at every "
                         + "step, as ReferenceNet reads it); -1 = each row's own t (reference-only control, JeDi's replacement); the "
                         + "record keeps it and samplers follow it", in: -1...999, optIn: true),
            ConfigKey("reference_flip", .bool, default: .bool(false),
                      doc: "with reference = \"clean\": a row whose target is drawn mirrored (half the world's poses) reads its clean "
                          + "reference mirrored too, so the reference carries which way the subject faces (off: the upright reference "
                          + "stands for both facings and an asymmetric subject is learnt as their average)", optIn: true),
            ConfigKey("reference_rotate", .bool, default: .bool(false),
                      doc: "with reference = \"clean\": the clean reference also takes its target's in-plane rotation (centred, canonical "
                          + "scale), so its patterns are oriented as the target's; at test time an upright reference then asks for an "
                          + "upright subject", optIn: true),
            ConfigKey("full_resolution_cross_attention", .bool, default: .bool(false),
                      doc: "grow the U-Net with cross-attention blocks at full resolution (level 0, where 2-4-pixel patterns are drawn, then "
                          + "reads the text and image tokens itself), each starting as the identity (proj_out zero) and training at lr; "
                          + "needs unet_lr_scale > 0, and the adapter file then carries the grown U-Net", optIn: true),
            ConfigKey("full_resolution_self_attention", .bool, default: .bool(false),
                      doc: "with full_resolution_cross_attention, the new level-0 blocks carry self-attention too, so reference attention "
                          + "reads the reference's full-resolution tokens (its [reference; image] sets attend over 2 x 1024 tokens there)",
                      optIn: true),
            ConfigKey("layers_per_block", .integer, default: .integer(0),
                      doc: "grow the U-Net to this many resnets per level (0 = the base U-Net's): more capacity where patterns are drawn, "
                          + "each new block starting as the identity (conv2 / proj_out zero) and training at lr; needs unet_lr_scale > 0, "
                          + "and the adapter file then carries the grown U-Net", optIn: true),
            ConfigKey("encoder_widths", .array(.integer), default: .array([.integer(32), .integer(64), .integer(128)]),
                      doc: "the resnet reference encoder's stage widths (one basic block each; the last map's cells are the tokens)", optIn: true),
        ]),
        sourceFingerprint: BuildSources.fingerprint,
        upstream: ["pretrain-unet", "pretrain-clip"])

    @OptionGroup var common: CommonOptions

    func run() throws {
        let out = PretrainOutput(weightsName: "adapter.safetensors", kind: "checkpoint/adapter")
        try runPretrainStage(Self.definition, options: common, output: out, prepare: { r in
            let clipFiles = try requiredUpstream(r, stage: "pretrain-clip", name: "clip.safetensors")
            let unetFiles = try requiredUpstream(r, stage: "pretrain-unet", name: "unet.safetensors")
            guard unetFiles.record.vae != nil else { return (try r.allUpstreamOutputs(), (clipFiles, unetFiles, UpstreamFiles?.none)) }
            let vaeFiles = try requiredUpstream(r, stage: "pretrain-vae", name: "vae.safetensors")
            return (try r.allUpstreamOutputs() + r.upstreamOutputs("pretrain-vae"), (clipFiles, unetFiles, vaeFiles))
        }) { r, ctx, prepared in
            let (clipFiles, unetFiles, vaeFiles) = prepared
            let c = r.config
            let clip = try PretrainedModels.loadCLIP(weights: clipFiles.weights, record: clipFiles.record)
            let vae = try vaeFiles.flatMap { try PretrainedModels.loadVAE(weights: $0.weights, record: $0.record, for: unetFiles.record) }
            let base = try PretrainedModels.loadUNet(weights: unetFiles.weights, record: unetFiles.record)
            let grow = c.bool("full_resolution_cross_attention")
            guard !grow || c.double("unet_lr_scale") > 0 else {
                throw c.invalid("full_resolution_cross_attention", "the new blocks are U-Net weights the adapter file must carry; set unet_lr_scale > 0")
            }
            guard grow || !c.bool("full_resolution_self_attention") else {
                throw c.invalid("full_resolution_self_attention", "adds self-attention to the level-0 blocks that full_resolution_cross_attention "
                                + "grows; set full_resolution_cross_attention = true")
            }
            let wide = grow ? try PretrainedModels.withFullResolutionCrossAttention(base, selfAttention: c.bool("full_resolution_self_attention"),
                                                                                    key: RNGKey(seed: trainSettings(r).seed).fold(in: "full_resolution_cross_attention"))
                : base
            let layers = c.int("layers_per_block") == 0 ? base.config.layersPerBlock : c.int("layers_per_block")
            guard layers >= base.config.layersPerBlock else {
                throw c.invalid("layers_per_block", "is \(layers) but the base U-Net has \(base.config.layersPerBlock); a U-Net can only grow (0 = the base's)")
            }
            guard layers == base.config.layersPerBlock || c.double("unet_lr_scale") > 0 else {
                throw c.invalid("layers_per_block", "the new blocks are U-Net weights the adapter file must carry; set unet_lr_scale > 0")
            }
            let unet = try PretrainedModels.withLayersPerBlock(wide, layers, key: RNGKey(seed: trainSettings(r).seed).fold(in: "layers_per_block"))
            let newBlocks = (grow ? PretrainedModels.fullResolutionCrossAttentionPrefixes(unet.config) : [])
                + PretrainedModels.deeperBlockPrefixes(from: base.config.layersPerBlock, unet.config)
            let text = try PretrainedModels.loadTextEncoder(clip: clip, unetWeights: unetFiles.weights, unetRecord: unetFiles.record)
            let schedule = try PretrainedModels.noiseSchedule(record: unetFiles.record, path: unetFiles.weights)
            let depth = clip.config.vision.depth
            let layer = c.int("image_layer") == 0 ? max(1, depth - 1) : min(c.int("image_layer"), depth)
            let settings = trainSettings(r)
            let conv = c.string("image_encoder") == "resnet"
                ? try ConvReferenceEncoder(config: ResNetConfig(imageSize: c.int("resolution"), widths: c.ints("encoder_widths"),
                                                                blocks: c.ints("encoder_widths").map { _ in 1 }),
                                           key: RNGKey(seed: settings.seed).fold(in: "image_encoder"))
                : nil
            let encoder: any ReferenceEncoder = conv ?? ViTReferenceEncoder(vit: clip.visionModel, layer: layer)
            let dim = c.int("dim"), heads = c.int("heads")
            let rcfg = ResamplerConfig(embeddingDim: encoder.tokenWidth, dim: dim, depth: c.int("depth"), heads: heads,
                                       dimHead: dim / heads, numQueries: c.int("queries"), outputDim: unet.config.crossAttentionDim)
            let resampler = try Resampler(config: rcfg, key: RNGKey(seed: settings.seed).fold(in: "init"))
            for a in unet.crossAttentions { a.initImageBranchFromText() }
            guard c.double("attribute_weight") == 0 || conv != nil else {
                throw c.invalid("attribute_weight", "the attribute loss trains the adapter's own reference encoder; set image_encoder = \"resnet\" "
                                + "or attribute_weight = 0")
            }
            let referenceAttention = c.bool("reference_attention")
            guard !referenceAttention || c.string("reference") == AdapterReference.clean.rawValue else {
                throw c.invalid("reference_attention", "reference attention reads the subject's clean render; set reference = \"clean\"")
            }
            let referenceTimestep = c.int("reference_timestep") >= 0 ? c.int("reference_timestep") : nil
            guard referenceTimestep == nil || referenceAttention else {
                throw c.invalid("reference_timestep", "applies to reference attention only; set reference_attention = true or reference_timestep = -1")
            }
            let referenceFlip = c.bool("reference_flip")
            guard !referenceFlip || c.string("reference") == AdapterReference.clean.rawValue else {
                throw c.invalid("reference_flip", "mirrors the subject's clean render; set reference = \"clean\"")
            }
            let referenceRotate = c.bool("reference_rotate")
            guard !referenceRotate || c.string("reference") == AdapterReference.clean.rawValue else {
                throw c.invalid("reference_rotate", "rotates the subject's clean render; set reference = \"clean\"")
            }
            let initFrom = c.string("init_from")
            let warm = initFrom.isEmpty ? nil : try WarmStart.adapter(unet: unet, resampler: resampler, encoder: conv,
                                                                         from: URL(fileURLWithPath: initFrom), stage: r.stage)
            let tunesUNet = c.double("unet_lr_scale") > 0 || warm?.tunesUNet == true
            let task = AdapterTask(unet: unet, resampler: resampler, textEncoder: text, imageEncoder: encoder,
                                   trainEncoder: conv != nil, reference: AdapterReference(rawValue: c.string("reference"))!,
                                   schedule: schedule, data: dataConfig(r), seed: settings.seed,
                                   batchSize: settings.batchSize, dropText: Float(c.double("drop_text")),
                                   dropImage: Float(c.double("drop_image")), dropBoth: Float(c.double("drop_both")),
                                   vae: vae, snrGamma: Float(c.double("snr_gamma")), objectWeight: Float(c.double("object_weight")),
                                   unetLearningRateScale: c.double("unet_lr_scale"), attributeWeight: Float(c.double("attribute_weight")),
                                   referenceAttention: referenceAttention, referenceTimestep: referenceTimestep,
                                   referenceFlip: referenceFlip, referenceRotate: referenceRotate, fullRateUNetPrefixes: newBlocks)
            let trainer = Trainer(task: task, settings: settings)
            let measure = { (judge: WorldJudge) throws -> (metrics: [String: Double], sheet: Image) in
                let g = Generator(textEncoder: text, imageEncoder: encoder, resampler: resampler, unet: unet, vae: vae,
                                  schedule: schedule, resolution: c.int("resolution"))
                let a = try GateRuns.adapter(g, judge: judge, subjects: c.int("gate_subjects"), steps: c.int("gate_steps"),
                                             guidance: Float(c.double("gate_guidance")),
                                             referenceAttention: referenceAttention ? .conditional : nil,
                                             referenceTimestep: referenceTimestep, stageSeed: settings.seed)
                return (a.metrics, a.sheet)
            }
            let curve = try curveMeasurement(r, sheet: "adapter-samples", keep: { !$0.hasSuffix("_other_subject") && $0 != "adapter_samples" },
                                             measure: measure)
            try trainWithCheckpoints(ctx, trainer: trainer, curveEvery: curve == nil ? 0 : c.int("curve_every"), curve: curve)
            trainer.applyEMA()
            let gate = try runStageGate(r, what: "adapter", measure: measure)
            var rec = PretrainRecord(stage: r.stage, codeVersion: r.codeVersion, seed: settings.seed,
                                     steps: settings.trainedSteps, resolution: c.int("resolution"), weightsFile: "", weightsSHA256: "",
                                     training: settings.asRecord.merging(warm.map { ["init_from_sha256": $0.sha] } ?? [:]) { a, _ in a },
                                     metrics: gate.metrics)
            rec.resampler = rcfg
            rec.imageEncoderLayer = conv == nil ? layer : nil
            rec.referenceEncoder = conv?.config
            rec.unet = unet.config
            rec.noise = unetFiles.record.noise
            rec.vae = vae?.config
            rec.adapterTunesUNet = tunesUNet ? true : nil
            rec.referenceAttention = referenceAttention ? ReferenceAttention.conditional.rawValue : nil
            rec.referenceTimestep = referenceTimestep
            var outs = try writeOutputs(ctx, weights: PretrainedModels.adapterFile(unet: unet, resampler: resampler, encoder: conv, withUNet: tunesUNet),
                                        output: out, record: rec)
            if let png = gate.sheetPNG { outs.append(try r.writeArtifact(png, name: "adapter-samples.png", kind: "grid")) }
            outs += try r.writtenArtifacts(in: "curve", kind: "grid")
            return outs
        }
    }
}
