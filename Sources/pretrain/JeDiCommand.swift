import ArgumentParser
import Foundation
import Generation
import Imaging
import Models
import NN
import Pretrained
import StageKit
import TensorCore
import Training
import World

/// `pretrain jedi` (issue 17 item 3; docs/JEDI.md): JeDi's joint-image U-Net, initialised from pretrain-unet's base
/// U-Net widened to the inpainting input (`JeDiUNet.fromBase`: the new channels zero, so step 0 predicts what the base
/// does), trained by denoising same-subject sets (`JeDiTask`: drawn per step, or with `sets = "stage"` those `pretrain
/// jedi-sets` wrote, an input of the stage then) with the base's text tower frozen.
/// Output `jedi.safetensors` (diffusers keys, `conv_in` reading 2c + 1 channels; kind `checkpoint/jedi`) + `jedi.json`.
/// Gate (with a finished pretrain-judge): personalization as inpainting on test subjects, one set [clean reference; scene]
/// per gate scene (`gate_joint`: the 4 scenes in one set) (`JeDiSampler`, image guidance with the joint null), judged as the
/// adapter's gate is (`jedi_identity`, `jedi_scene`, `jedi_dino`, ...), and the sheet `jedi-samples.png`.
struct JeDiCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "jedi", abstract: "Train JeDi's joint-image U-Net ([pretrain-jedi]).",
                                                    discussion: definition.help(items: false))

    static let definition = StageDefinition(
        name: "pretrain-jedi",
        schema: ConfigSchema(section: "pretrain-jedi", keys: commonKeys(steps: 2000, batch: 4, lr: 1e-4, warmup: 50, checkpointEvery: 100) + [
            ConfigKey("set_sizes", .array(.integer), default: .array([.integer(2), .integer(3), .integer(4)]),
                      doc: "set sizes drawn per batch (the appendix: 2-4; up to 5, the all-references setting's set); with sets = \"stage\" "
                          + "the sizes among these that the stored sets hold",
                      check: setSizesCheck),
            ConfigKey("sets", .string, default: .string("procedural"),
                      doc: "where the same-subject sets come from: \"procedural\" (drawn per step) or \"stage\" (pretrain-jedi-sets' "
                          + "sets, read through the manifest; clean_member and subjects_per_category are then theirs)",
                      optIn: true, check: ConfigKey.oneOf(["procedural", "stage"])),
            .float("text_dropout", default: 0.1, doc: "probability that a set's prompts are all the empty prompt (CFG)", in: 0...1),
            .float("clean_member", default: 0.5,
                   doc: "probability that member 0 of a set is the subject's clean canonical render (the test-time reference) instead of a scene",
                   in: 0...1),
            .float("snr_gamma", default: 0, doc: "min-SNR-gamma loss weighting per set; 0 = plain MSE", in: 0...1000),
            .integer("gate_steps", default: 20, doc: "DDIM steps of the gate's samples (0 = no gate)", in: 0...1000),
            ConfigKey("gate_guidance", .float, default: .float(2.0), doc: "guidance scale s of the gate (JeDi eq. 3, the joint null)"),
            .integer("gate_subjects", default: 26, doc: "test subjects in the gate (4 scenes each)", in: 1...1000),
            ConfigKey("gate_joint", .bool, default: .bool(false),
                      doc: "the gate samples each subject's 4 scenes in ONE set [reference; 4 scenes] (5 members, beyond training's 2-4) "
                          + "instead of one set [reference; scene] per scene (the bench's one-reference form)"),
            .integer("curve_every", default: 0, doc: "measure the gate (EMA weights) every K steps: the learning curve; 0 = only at the end",
                     in: 0...1_000_000, affectsOutput: false),
        ]),
        sourceFingerprint: BuildSources.fingerprint,
        upstream: ["pretrain-unet", "pretrain-clip"])

    @OptionGroup var common: CommonOptions

    func run() throws {
        let out = PretrainOutput(weightsName: "jedi.safetensors", kind: "checkpoint/jedi")
        try runPretrainStage(Self.definition, options: common, output: out, prepare: { r in
            let clipFiles = try requiredUpstream(r, stage: "pretrain-clip", name: "clip.safetensors")
            let unetFiles = try requiredUpstream(r, stage: "pretrain-unet", name: "unet.safetensors")
            guard unetFiles.record.vae == nil else {
                throw r.config.invalid("from", "the base U-Net is latent; JeDi trains in pixel space only (docs/JEDI.md)")
            }
            guard r.config.string("sets") == "stage" else { return (try r.allUpstreamOutputs(), (clipFiles, unetFiles, StoredJeDiSets?.none)) }
            let stored = try JeDiSetsCommand.load(r, resolution: r.config.int("resolution"))
            guard !stored.sets.sizes(among: r.config.ints("set_sizes")).isEmpty else {
                throw r.config.invalid("set_sizes", "pretrain-jedi-sets holds \(stored.sets.count) sets of sizes \(stored.sets.sizes), none of "
                                       + "\(r.config.ints("set_sizes")); widen set_sizes or rerun pretrain jedi-sets with these sizes")
            }
            r.log.info("training on \(stored.sets.count) stored sets (sizes \(stored.sets.sizes)) of pretrain-jedi-sets")
            return (try r.allUpstreamOutputs() + stored.inputs, (clipFiles, unetFiles, stored.sets))
        }) { r, ctx, prepared in
            let (clipFiles, unetFiles, stored) = prepared
            let c = r.config
            let clip = try PretrainedModels.loadCLIP(weights: clipFiles.weights, record: clipFiles.record)
            let base = try PretrainedModels.loadUNet(weights: unetFiles.weights, record: unetFiles.record)
            let text = try PretrainedModels.loadTextEncoder(clip: clip, unetWeights: unetFiles.weights, unetRecord: unetFiles.record)
            let schedule = try PretrainedModels.noiseSchedule(record: unetFiles.record, path: unetFiles.weights)
            let unet = try JeDiUNet.fromBase(base)
            let settings = trainSettings(r)
            var data = dataConfig(r)
            data.supersample = 2
            let task = JeDiTask(unet: unet, textEncoder: text, schedule: schedule, data: data, seed: settings.seed,
                                batchSize: settings.batchSize, setSizes: c.ints("set_sizes"), textDropout: Float(c.double("text_dropout")),
                                cleanMemberFraction: Float(c.double("clean_member")), snrGamma: Float(c.double("snr_gamma")),
                                stored: stored)
            let trainer = Trainer(task: task, settings: settings)
            let g = Generator(textEncoder: text, imageEncoder: nil, resampler: nil, unet: unet, vae: nil, schedule: schedule,
                              resolution: c.int("resolution"))
            let measure = { (judge: WorldJudge) throws -> (metrics: [String: Double], sheet: Image) in
                let gate = try Self.gate(g, judge: judge, subjects: c.int("gate_subjects"), steps: c.int("gate_steps"),
                                         guidance: Float(c.double("gate_guidance")), seed: settings.seed, jointScenes: c.bool("gate_joint"))
                return (gate.metrics, gate.sheet)
            }
            let curve = try curveMeasurement(r, sheet: "jedi-samples", keep: { !$0.hasSuffix("_other_subject") && $0 != "jedi_samples" },
                                             measure: measure)
            try trainWithCheckpoints(ctx, trainer: trainer, curveEvery: curve == nil ? 0 : c.int("curve_every"), curve: curve)
            trainer.applyEMA()
            let gate = try runStageGate(r, what: "JeDi", measure: measure)
            var training = settings.asRecord
            for k in ["set_sizes", "text_dropout", "clean_member", "snr_gamma", "gate_guidance", "gate_joint", "sets"] { training[k] = c.texts[k] }
            var rec = PretrainRecord(stage: r.stage, codeVersion: r.codeVersion, seed: settings.seed, steps: settings.trainedSteps,
                                     resolution: c.int("resolution"), weightsFile: "", weightsSHA256: "", training: training, metrics: gate.metrics)
            rec.unet = unet.config
            rec.noise = unetFiles.record.noise
            rec.textEncoderFile = unetFiles.record.textEncoderFile
            rec.textEncoderSHA256 = unetFiles.record.textEncoderSHA256
            var outs = try writeOutputs(ctx, weights: unet.stateDict(), output: out, record: rec)
            if let png = gate.sheetPNG { outs.append(try r.writeArtifact(png, name: "jedi-samples.png", kind: "grid")) }
            outs += try r.writtenArtifacts(in: "curve", kind: "grid")
            return outs
        }
    }

    /// Personalization as inpainting on `subjects` test subjects: one set [its clean reference; scene] per gate scene
    /// from that scene's seed (the stage's gate and the bench's one-reference form: 2 members, inside training's 2-4),
    /// or with `jointScenes` one set [reference; the 4 scenes] per subject; the adapter gate's judging
    /// (`GateRuns.adapter`), metrics renamed `jedi_*`, and with it the per-sample reads for paired comparisons.
    static func gate(_ g: Generator, judge: WorldJudge, subjects: Int, steps: Int, guidance: Float, seed: UInt64, jointScenes: Bool = false,
                     imageGuidance: JeDiGuidance = JeDiGuidance())
        throws -> (metrics: [String: Double], sheet: Image, perSample: [AdapterGateSample]) {
        let a = try GateRuns.adapter(g, judge: judge, subjects: subjects, steps: steps, guidance: guidance, stageSeed: seed,
                                     title: "JeDi") { subject, reference, prompts, seeds in
            let caption = [Prompts.referenceCaption(subject.category)]
            let options = SamplingOptions(steps: steps, guidanceScale: guidance)
            let groups = jointScenes ? [(prompts, seeds[0])] : zip(prompts, seeds).map { ([$0], $1) }
            var out: [Float] = []
            for (ps, s) in groups {
                let x = try JeDiSampler.sample(g, set: JeDiSet(references: reference, referencePrompts: caption, prompts: ps), seed: s,
                                               options: options, guidance: imageGuidance)
                out += x.scalars[(x.count / x.shape[0])...]
            }
            return Tensor(shape: [prompts.count, 3, g.resolution, g.resolution], scalars: out)
        }
        var m: [String: Double] = [:]
        for (k, v) in a.metrics { m[k.hasPrefix("adapter_") ? "jedi_" + k.dropFirst("adapter_".count) : k] = v }
        return (m, a.sheet, a.perSample)
    }
}
