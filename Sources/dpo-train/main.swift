import ArgumentParser
import Foundation
import Generation
import Manifest
import Models
import Objectives
import PreferenceTraining
import StageKit
import Upstream

/// `dpo-train`: preference training of the image adapter, or of JeDi (`base = "jedi"`), with a choice of loss (METHODS.md 5). The runs, their
/// resume and checkpoints are PreferenceTraining's `MultiRunTrainer`; this binds it to the stage.
struct DPOTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dpo-train",
        abstract: "Train the image adapter (or JeDi) with the losses of METHODS.md 5 ([dpo-train]).",
        discussion: definition.help("Outputs adapter-<run>.safetensors (kind checkpoint/adapter) and adapter-<run>.json (kind record) "
            + "per run, <run> = <loss>[-<vit>]-s<seed> (e.g. patchdpo-finetuned-s1, dm-s2); with base = \"jedi\" jedi-<run>.safetensors "
            + "(kind checkpoint/jedi: the trained weights of pretrain-jedi's U-Net) and jedi-<run>.json; metrics <run>/loss, "
            + "<run>/implicit_acc, <run>/grad_norm per step.", items: false),
        version: BuildSources.version)

    static let definition = StageDefinition(
        name: "dpo-train", schema: dpoTrainSchema, sourceFingerprint: BuildSources.fingerprint,
        upstream: ["patch-quality", "score-and-pair", "generate-pool", "pretrain-clip", "pretrain-unet", "pretrain-adapter"])

    @OptionGroup var common: CommonOptions
    @Option(help: "Train only this loss: \(LossKind.allCases.map(\.rawValue).joined(separator: "|")) (overrides [dpo-train].losses).")
    var loss: String?

    func validate() throws {
        if let l = loss, LossKind(rawValue: l) == nil {
            throw ValidationError("--loss \(l): use one of \(LossKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() throws {
        try StageMain.run(Self.definition, options: common, flagOverrides: loss.map { ["losses=[\"\($0)\"]"] } ?? []) { r in
            let c = r.config, up = UpstreamModels(runner: r)
            let base = GeneratorBase(rawValue: c.string("base"))!
            let runs = DPORun.plan(losses: c.strings("losses").map { LossKind(rawValue: $0)! }, vits: c.strings("patchdpo_vits"),
                                   seeds: c.ints("seeds"), base: base)
            // JeDi's weights enter the fingerprint only when it is the base, so adapter runs keep theirs.
            try r.runWhole(inputs: try up.artifacts.inputs(r.definition.upstream + (base == .jedi ? ["pretrain-jedi"] : []))) { ctx in
                let models = try Self.models(base, up: up, config: c)
                let pool = PoolReader(upstream: up.artifacts, resolution: models.resolution)
                let pairs = TrainingPairs(encoder: PairEncoder(pool: pool, models: models),
                                          comprehensiveDCOCaptions: c.string("dco_captions") == "comprehensive", log: { r.log.info($0) })
                let trainer = MultiRunTrainer(runs: runs, settings: settings(r), base: PreferenceBase(models),
                                              checkpoints: r.layout.artifacts(r.stage).appendingPathComponent("checkpoints", isDirectory: true))
                return try trainer.train(pairs: pairs.pairs(for:), ledger: StageLedger(context: ctx))
            }
        }
    }

    /// The frozen models and starting weights of `base`: pretrain-adapter's generator, or pretrain-jedi's.
    static func models(_ base: GeneratorBase, up: UpstreamModels, config c: ConfigSection) throws -> PreferenceModels {
        switch base {
        case .adapter:
            let g = try up.generator(), adapter = try up.artifacts.artifact("adapter.safetensors", of: "pretrain-adapter")
            return PreferenceModels(g, adapterPath: up.artifacts.url(adapter).path,
                                    referenceAttention: ReferenceAttention.resolve(c.string("reference_attention"), for: g) != nil)
        case .jedi:
            let g = try up.jedi(), weights = try up.artifacts.artifact("jedi.safetensors", of: "pretrain-jedi")
            return PreferenceModels(jedi: g, path: up.artifacts.url(weights).path, trainable: JeDiTrainable(rawValue: c.string("jedi_trainable"))!)
        }
    }

    func settings(_ r: StageRunner) -> PreferenceSettings {
        let c = r.config
        return PreferenceSettings(
            steps: c.int("steps"), batch: c.int("batch"), learningRate: c.double("lr"), weightDecay: c.double("weight_decay"),
            beta: c.double("beta") > 0 ? Float(c.double("beta")) : nil, lambdaStat: Float(c.double("lambda_stat")),
            sampledStatStep: c.string("stat_step") == "sample",
            conditionDropout: ConditionDropout(text: Float(c.double("drop_text")), image: Float(c.double("drop_image")),
                                               both: Float(c.double("drop_both"))),
            trainResampler: c.bool("train_resampler"), maxGradNorm: c.double("max_grad_norm"), ipScale: Float(c.double("ip_scale")),
            checkpointEvery: c.int("checkpoint_every"), logEvery: c.int("log_every"), seed: r.run.seed,
            codeVersion: r.codeVersion, config: c.canonical)
    }
}

/// The stage run as the training's ledger: checkpoints and metrics in the manifest, the stage's log and interrupts.
struct StageLedger: PreferenceLedger {
    let context: StageContext
    func latestCheckpoint() throws -> Int? { try context.checkpoints.latest()?.step }
    func recordCheckpoint(step: Int, files: [URL]) throws { try context.checkpoints.record(step: step, files: files) }
    func metric(_ name: String, step: Int, _ value: Double) throws { try context.metric(name, step: step, value) }
    func checkInterrupt() throws { try context.checkInterrupt() }
    func info(_ line: String) { context.runner.log.info(line) }
    func diverged(step: Int, what: String) -> any Error { StageError.diverged(stage: context.runner.stage, step: step, what: what) }
    func write(_ data: Data, name: String, kind: String) throws -> NewArtifact { try context.runner.writeArtifact(data, name: name, kind: kind) }
}

DPOTrain.main()
