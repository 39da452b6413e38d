import ArgumentParser
import Foundation
import Generation
import Manifest
import Models
import Objectives
import PreferenceTraining
import StageKit
import TensorCore
import Upstream

/// `dpo-train`: preference training of the image adapter, or of JeDi (`base = "jedi"`), with a choice of loss (METHODS.md 5). Each run
/// (loss x ViT x seed) is one item, so the runs shard across processes and hosts like any per-item stage; a run's training,
/// resume and checkpoints are PreferenceTraining's `RunTrainer`, bound to its item by `ItemLedger`.
struct DPOTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dpo-train",
        abstract: "Train the image adapter (or JeDi) with the losses of METHODS.md 5 ([dpo-train]).",
        discussion: definition.help("One item per run, <run> = <loss>[-<vit>]-s<seed> (e.g. patchdpo-finetuned-s1, dm-s2), which "
            + "outputs adapter-<run>.safetensors (kind checkpoint/adapter) and adapter-<run>.json (kind record); with base = \"jedi\" "
            + "jedi-<run>.safetensors (kind checkpoint/jedi: the trained weights of pretrain-jedi's U-Net) and jedi-<run>.json; metrics "
            + "<run>/loss, <run>/implicit_acc, <run>/grad_norm per step. A run checkpoints every checkpoint_every steps into "
            + "checkpoints/<stage run>-<fingerprint>/<run>/ and resumes from there; a run that goes non-finite fails alone.", shardable: true),
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
            let byName = Dictionary(uniqueKeysWithValues: runs.map { ($0.name, $0) })
            // JeDi's weights enter the fingerprint only when it is the base, so adapter runs keep theirs.
            let inputs = try up.artifacts.inputs(r.definition.upstream + (base == .jedi ? ["pretrain-jedi"] : []))
            // The frozen pretrained weights the runs read, for the digest of what a run trains on (`ShippedRun.inputsDigest`).
            let models = inputs.filter { $0.kind.hasPrefix("checkpoint/") && $0.relativePath.hasPrefix("artifacts/pretrain-") }
                .map { (name: $0.relativePath, sha256: $0.sha256) }
            let shipped = try Self.shippedFolder(c.string("from"))
            // Loaded once per process, by the first item it trains; the pairs are encoded once per pairs file and ViT.
            var loaded: (base: PreferenceBase, pairs: TrainingPairs)?
            try r.runItems(keys: runs.map(\.name), inputs: inputs) { item in
                let run = byName[item.key]!
                if loaded == nil {
                    let models = try Self.models(base, up: up, config: c)
                    let pool = PoolReader(upstream: up.artifacts, resolution: models.resolution)
                    loaded = (PreferenceBase(models), TrainingPairs(encoder: PairEncoder(pool: pool, models: models),
                                                                   comprehensiveDCOCaptions: c.string("dco_captions") == "comprehensive",
                                                                   log: { r.log.info($0) }))
                }
                let trainer = RunTrainer(run: run, settings: settings(r), base: loaded!.base, checkpoints: item.checkpoints)
                let pairs = { try loaded!.pairs.pairs(for: run) }, ledger = ItemLedger(item: item)
                if let folder = shipped, let out = try trainer.importShipped(from: folder, pairs: pairs, models: models, ledger: ledger) {
                    return out
                }
                return try trainer.train(pairs: pairs, models: models, ledger: ledger)
            }
        }
    }

    /// `from`'s folder of shipped runs (nil: ""); one that does not exist is missing input naming it.
    static func shippedFolder(_ from: String) throws -> URL? {
        guard !from.isEmpty else { return nil }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: from, isDirectory: &isDir), isDir.boolValue else {
            throw StageError.missingFile(path: from, hint: "[dpo-train] from names a folder of shipped runs (data/checkpoints/reproduction); "
                                         + "set it to one, or to \"\" to train every run")
        }
        return URL(fileURLWithPath: from)
    }

    /// The frozen models and starting weights of `base`: pretrain-adapter's generator, or pretrain-jedi's.
    static func models(_ base: GeneratorBase, up: UpstreamModels, config c: ConfigSection) throws -> PreferenceModels {
        switch base {
        case .adapter:
            let g = try up.generator(), adapter = try up.artifacts.artifact("adapter.safetensors", of: "pretrain-adapter")
            return PreferenceModels(g, adapterPath: up.artifacts.url(adapter).path,
                                    referenceAttention: ReferenceAttention.resolve(c.string("reference_attention"), for: g) != nil,
                                    trainable: AdapterTrainable(rawValue: c.string("adapter_trainable"))!)
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
            codeVersion: r.codeVersion, config: c.canonical,
            precision: GEMMPrecision(rawValue: c.string("precision")) ?? .fp32)
    }
}

DPOTrain.main()
