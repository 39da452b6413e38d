import ArgumentParser
import Foundation
import Generation
import Imaging
import Models
import Pretrained
import StageKit
import TensorCore
import Training
import World

/// `pretrain gates`: re-measures every gate on the files of a checkpoint directory (data/checkpoints
/// layout): the judge's own gates (`WorldJudgeGates`, issue 14), then the U-Net and adapter gates with
/// that judge (issue 15's targets), printing each against its target as MET or NOT MET. The metrics go
/// into `judge.json`, `unet.json` and `adapter.json` (weights and their SHA-256 untouched), the sheets
/// into `--docs`. Same seeds as the stages, so on the same files it reproduces the stages' numbers.
struct GatesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "gates",
                                                    abstract: "Re-measure the judge, U-Net and adapter quality gates on a checkpoint directory.")

    @Option(help: "Checkpoint directory (judge, clip, unet, adapter .safetensors + .json).") var checkpoints = "data/checkpoints"
    @Option(help: ArgumentHelp("Where the sample sheets go (default: docs/ for data/checkpoints, whose sheets docs/ shows; for any "
                               + "other --checkpoints, that directory, so gating a scratch checkpoint never overwrites the repository's sheets)."))
    var docs: String?
    @Option(help: "Sampling scheduler of the gate samples (dpmpp-2m: DPM-Solver++ (2M)).") var scheduler: SchedulerKind = .ddim
    @Option(help: ArgumentHelp("Arithmetic of the U-Net's matrix products in the gate samples: fp32 | bf16 (bfloat16 operands, FP32 "
                               + "accumulation; CPUs with AVX512-BF16 only).")) var precision: SamplingPrecision = .fp32
    @Option(help: "Sampling steps of the gate samples.") var steps = 20
    @Option(help: "CFG scale of the gate samples (2: the adapter keeps its subject best there, data/checkpoints/README.md).") var guidance: Float = 2
    @Option(help: "Image cross-attention scale lambda of the adapter gate's samples.") var ipScale: Float = 1
    @Option(help: "Decoupled image guidance s_I of the adapter gate's samples (--guidance is then the text scale; default: plain CFG).")
    var imageGuidance: Float?
    @Option(help: ArgumentHelp("Reference attention of the adapter gate's samples: off | both | conditional (default: what adapter.json's "
                               + "`referenceAttention` says the adapter was trained with, else off)."))
    var referenceAttention: String?
    @Option(help: "Attention bias of the reference's foreground keys under --reference-attention (0: as the image's own keys).")
    var referenceBias: Float = 0
    @Option(help: ArgumentHelp("Timestep the references are diffused to under reference attention: min(k, t) (0: the clean reference at "
                               + "every step, as ReferenceNet; default: adapter.json's `referenceTimestep`, else each step's own t)."))
    var referenceTimestep: Int?
    @Option(help: "Test subjects in the adapter gate (x 4 scenes; 26 = the stage gate's 104 samples: fewer move identity by chance, data/checkpoints/README.md).")
    var subjects = 26
    @Option(help: "Write the adapter gate's per-sample judge reads (CSV) here, for paired comparisons (scripts/paired_gate.py).")
    var perSample: String?
    @Option(help: ArgumentHelp("SDEdit diagnostic of the adapter gate: every sample starts from the real render of its subject in its "
                               + "scene, diffused to this share of the chain (0-1; the last round(s x steps) steps run), instead of from noise.",
                               valueName: "strength")) var sdedit: Float?
    @Flag(help: "Only the adapter's gate (no judge, autoencoder or base U-Net gates): for sweeping sampling settings.") var adapterOnly = false
    @Flag(help: "Only the judge's gates (no sampling).") var judgeOnly = false
    @Flag(help: "Only JeDi's gate (jedi.safetensors + .json in --checkpoints; --subjects, --steps, --guidance, --per-sample apply).")
    var jediOnly = false
    @Flag(help: ArgumentHelp("JeDi's gate with one joint set [reference; 4 scenes] per subject instead of one set [reference; scene] "
                             + "per scene (the stage's gate unless its record says gate_joint = true)."))
    var jediJoint = false
    @Option(help: "JeDi's image guidance in its gate: joint (eq. 3) | text-first | image-first (the appendix's eq. 4).")
    var jediGuidance: JeDiGuidance.Strategy = .joint
    @Option(help: "JeDi's image-to-text guidance ratio for text-first / image-first (image-first with 1/--guidance: no image guidance).")
    var imageTextRatio: Float = 1
    @Option(help: "Test subjects per category in the judge's gates (x 13 categories x 4 scene renders).") var judgeSubjects = 64
    @Option(help: "Worker threads.") var threads = 2

    func validate() throws {
        if [judgeOnly, adapterOnly, jediOnly].filter({ $0 }).count > 1 {
            throw ValidationError("--judge-only, --adapter-only and --jedi-only exclude each other")
        }
        if (jediJoint || jediGuidance != .joint || imageTextRatio != 1) && !jediOnly {
            throw ValidationError("--jedi-joint, --jedi-guidance and --image-text-ratio go with --jedi-only")
        }
        do { try JeDiGuidance(strategy: jediGuidance, imageToTextRatio: imageTextRatio).validate() } catch {
            throw ValidationError("\(error)")
        }
        if !(ipScale.isFinite && ipScale >= 0) { throw ValidationError("--ip-scale must be a finite number >= 0, got \(ipScale)") }
        if let s = imageGuidance, !(s.isFinite && s >= 0) { throw ValidationError("--image-guidance must be a finite number >= 0, got \(s)") }
        if let m = referenceAttention, m != "off", ReferenceAttention(rawValue: m) == nil {
            throw ValidationError("--reference-attention must be off, both or conditional, got \(m)")
        }
        if !(guidance.isFinite && guidance >= 0) { throw ValidationError("--guidance must be a finite number >= 0, got \(guidance)") }
        if let s = sdedit {
            guard s >= 0, s <= 1 else { throw ValidationError("--sdedit must be a strength in [0, 1], got \(s)") }
            guard adapterOnly else { throw ValidationError("--sdedit is a diagnostic of the adapter's gate; add --adapter-only") }
        }
    }

    /// `--docs`, or its default: docs/ for the shipped checkpoints, else the checkpoint directory itself.
    var sheetsFolder: String {
        if let docs { return docs }
        let shipped = URL(fileURLWithPath: "data/checkpoints").standardizedFileURL.resolvingSymlinksInPath()
        return URL(fileURLWithPath: checkpoints).standardizedFileURL.resolvingSymlinksInPath() == shipped ? "docs" : checkpoints
    }

    func run() throws {
        Threads.configure(count: threads)
        let dir = URL(fileURLWithPath: checkpoints), docs = sheetsFolder
        func rec(_ n: String) throws -> (URL, PretrainRecord) {
            (dir.appendingPathComponent("\(n).safetensors"), try PretrainRecord.read(dir.appendingPathComponent("\(n).json")))
        }
        var lines: [String] = []
        try StageMain.command("pretrain gates") {
            // The outputs' folders first: a path that cannot be written fails now, not after minutes of sampling.
            let folders = [URL(fileURLWithPath: docs)] + (perSample.map { [URL(fileURLWithPath: $0).deletingLastPathComponent()] } ?? [])
            for f in folders {
                do { try FileManager.default.createDirectory(at: f, withIntermediateDirectories: true) } catch {
                    throw StageError.missingFile(path: f.path, hint: "the folder for the gates' outputs cannot be created "
                                                 + "(\(error.localizedDescription)); pass --docs / --per-sample paths under a writable folder")
                }
            }
            let (jw, jr) = try rec("judge")
            let judge = try loadJudge((jw, jr))
            guard let cfg = jr.judge else {
                throw PretrainedError.badCheckpoint(path: dir.appendingPathComponent("judge.json").path, reason: "record has no `judge` config")
            }
            if jediOnly {
                let g = try Generator.loadJeDi(directory: dir)
                let jedi = try rec("jedi")
                let j = try JeDiCommand.gate(g, judge: judge, subjects: subjects, steps: steps, guidance: guidance, seed: jedi.1.seed,
                                             jointScenes: jediJoint,
                                             imageGuidance: JeDiGuidance(strategy: jediGuidance, imageToTextRatio: imageTextRatio))
                // The record keeps the stage's form of the gate.
                if jediJoint == (jedi.1.training["gate_joint"] == "true") && jediGuidance == .joint {
                    try update(dir.appendingPathComponent("jedi.json"), jedi.1, j.metrics)
                    try PNG.write(j.sheet, to: URL(fileURLWithPath: docs).appendingPathComponent("jedi-samples.png").path)
                }
                if let perSample { try Data(AdapterGateSample.csv(j.perSample).utf8).write(to: URL(fileURLWithPath: perSample), options: .atomic) }
                lines += j.metrics.sorted { $0.key < $1.key }.map { "jedi \($0.key) \(fmt($0.value))" }
                return
            }
            if !adapterOnly {
                let tok = try WorldText.tokenizer(for: jr, path: dir.appendingPathComponent("judge.json"), maxLength: cfg.text.maxLength)
                let jm = try WorldJudgeGates.measure(judge, tokenizer: tok, seed: jr.seed &+ 1, perCategory: judgeSubjects, threads: threads)
                try update(dir.appendingPathComponent("judge.json"), jr, jm)
                lines += WorldJudgeGates.checks(jm).map { "judge " + $0.line }
            }
            // The latent-diffusion autoencoder, when the directory has one (issue 15).
            if !judgeOnly, !adapterOnly, FileManager.default.fileExists(atPath: dir.appendingPathComponent("vae.json").path) {
                let (vw, vr) = try rec("vae")
                let vae = try PretrainedModels.loadVAE(weights: vw, record: vr)
                let g = try ReconstructionGate.measure(vae, judge: judge, resolution: vr.resolution, seed: vr.seed &+ 1, threads: threads)
                try update(dir.appendingPathComponent("vae.json"), vr, g.metrics)
                lines += ReconstructionGate.targets.map { "vae " + GateCheck(metric: $0.0, target: $0.1, value: g.metrics[$0.0]).line }
                lines.append("vae psnr " + fmt(g.metrics["psnr"]) + " dB, object pixels " + fmt(g.metrics["psnr_object"]) + " dB")
            }
            if !judgeOnly {
                let (cw, cr) = try rec("clip"), (uw, ur) = try rec("unet"), (aw, ar) = try rec("adapter")
                let clip = try PretrainedModels.loadCLIP(weights: cw, record: cr)
                let schedule = try PretrainedModels.noiseSchedule(record: ur, path: uw)
                let unet = try PretrainedModels.loadUNet(weights: uw, record: ur)
                let text = try PretrainedModels.loadTextEncoder(clip: clip, unetWeights: uw, unetRecord: ur)
                let vae = try PretrainedModels.latentAutoencoder(for: ur, directory: dir)
                if !adapterOnly {
                    let u = try GateRuns.unet(textEncoder: text, unet: unet, vae: vae, schedule: schedule, judge: judge, resolution: ur.resolution,
                                              steps: steps, guidance: guidance, scheduler: scheduler, precision: precision,
                                              stageSeed: ur.seed)
                    try update(dir.appendingPathComponent("unet.json"), ur, u.metrics)
                    try PNG.write(u.sheet, to: URL(fileURLWithPath: docs).appendingPathComponent("unet-samples.png").path)
                    lines += GateRuns.checks(GateRuns.unetTargets, u.metrics, trials: "samples").map { "unet " + $0.line }
                    lines.append("unet (the judge on real renders of the same grid) category \(fmt(u.metrics["category_accuracy_real_renders"])), "
                                 + "scene \(fmt(u.metrics["scene_accuracy_real_renders"]))")
                    lines.append("unet category misreadings (requested>read): " + CategoryGate.top(u.gate.categoryConfusions, 8))
                    lines.append("unet scene misreadings (requested>read): " + CategoryGate.top(u.gate.sceneConfusions, 8))
                }
                let (encoder, resampler, tuned) = try PretrainedModels.loadAdapter(weights: aw, record: ar, into: unet, clip: clip)
                let g = Generator(textEncoder: text, imageEncoder: encoder, resampler: resampler, unet: tuned, vae: vae, schedule: schedule, resolution: ar.resolution)
                let referenceAttention = (self.referenceAttention ?? ar.referenceAttention).flatMap(ReferenceAttention.init(rawValue:))
                let a = try GateRuns.adapter(g, judge: judge, subjects: subjects, steps: steps, guidance: guidance,
                                             ipScale: ipScale, imageGuidance: imageGuidance, scheduler: scheduler,
                                             referenceAttention: referenceAttention, referenceBias: referenceBias,
                                             referenceTimestep: referenceTimestep ?? ar.referenceTimestep, precision: precision,
                                             stageSeed: ar.seed, sdedit: sdedit)
                try update(dir.appendingPathComponent("adapter.json"), ar, a.metrics)
                try PNG.write(a.sheet, to: URL(fileURLWithPath: docs).appendingPathComponent("adapter-samples.png").path)
                if let perSample { try Data(AdapterGateSample.csv(a.perSample).utf8).write(to: URL(fileURLWithPath: perSample), options: .atomic) }
                lines += GateRuns.checks(GateRuns.adapterTargets, a.metrics, trials: "adapter_samples").map { "adapter " + $0.line }
                lines.append("adapter detail \(fmt(a.metrics["adapter_detail"])) (room for PatchDPO: at least 0.2 below identity)")
                lines.append("adapter identity's parts: category \(fmt(a.metrics["adapter_category"])), main colour "
                             + "\(fmt(a.metrics["adapter_main_color"])), body pattern \(fmt(a.metrics["adapter_body_pattern"]))")
                lines.append("adapter body-pattern misreadings (subject's>read): " + CategoryGate.top(a.patternMisreadings, 8))
            }
        }
        for l in lines { print(l) }
    }

    func fmt(_ v: Double?) -> String { v.map { String(format: "%.4f", $0) } ?? "-" }

    func update(_ url: URL, _ record: PretrainRecord, _ metrics: [String: Double]) throws {
        var r = record
        r.metrics.merge(metrics) { _, new in new }
        if record.stage == "pretrain-jedi" { r.training["gate_joint"] = jediJoint ? "true" : "false" }
        r.training["gates_measured_with"] = r.judge != nil ? "pretrain gates --judge-subjects \(judgeSubjects)"
            : r.vae != nil && r.unet == nil ? "pretrain gates (ReconstructionGate with judge.safetensors)"
            : "pretrain gates --steps \(steps) --guidance \(guidance) --subjects \(subjects)"
                + (scheduler != .ddim ? " --scheduler \(scheduler.rawValue)" : "")
                + (precision != .fp32 ? " --precision \(precision.rawValue)" : "")
                + (record.stage == "pretrain-adapter" && ipScale != 1 ? " --ip-scale \(ipScale)" : "")
                + (record.stage == "pretrain-adapter" ? imageGuidance.map { " --image-guidance \($0)" } ?? "" : "")
                + (record.stage == "pretrain-adapter" ? (referenceAttention ?? record.referenceAttention).map { " --reference-attention \($0)" } ?? "" : "")
                + (record.stage == "pretrain-adapter" && referenceBias != 0 ? " --reference-bias \(referenceBias)" : "")
                + (record.stage == "pretrain-jedi" ? " --jedi-only" + (jediJoint ? " --jedi-joint" : "") : "")
        if record.stage == "pretrain-adapter", let k = referenceTimestep ?? record.referenceTimestep {
            r.training["gates_measured_with"]! += " --reference-timestep \(k)"
        }
        if record.stage == "pretrain-adapter", let s = sdedit { r.training["gates_measured_with"]! += " --sdedit \(s)" }
        try r.encoded().write(to: url, options: .atomic)
    }
}

extension SchedulerKind: ExpressibleByArgument {}
extension JeDiGuidance.Strategy: ExpressibleByArgument {}
extension SamplingPrecision: ExpressibleByArgument {}
