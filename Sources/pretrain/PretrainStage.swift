import Checkpoint
import Foundation
import Manifest
import Models
import Optim
import Pretrained
import Random
import StageKit
import TensorCore
import Training
import World

/// Config keys every pretrain stage shares (optimisation, data, checkpoints, import).
func commonKeys(steps: Int, batch: Int, lr: Double, warmup: Int, checkpointEvery: Int) -> [ConfigKey] {
    [
        ConfigKey("from", .string, default: .string(""),
                  doc: "import the shipped checkpoint from this directory (e.g. data/checkpoints) instead of training; \"\" trains"),
        .integer("steps", default: steps, doc: "optimizer steps (the length of the learning-rate schedule)", in: 0...10_000_000),
        .integer("stop_at", default: 0, doc: "end after this many steps of the `steps` schedule (a long schedule cut short; the record's "
                 + "`steps` says how many were trained); 0 = at `steps`", in: 0...10_000_000, optIn: true),
        .integer("batch", default: batch, doc: "batch size", in: 1...4096),
        ConfigKey("lr", .float, default: .float(lr), doc: "peak AdamW learning rate (warmup then cosine)"),
        .integer("warmup", default: warmup, doc: "linear warmup steps", in: 0...1_000_000),
        ConfigKey("weight_decay", .float, default: .float(0.01), doc: "AdamW decoupled weight decay"),
        ConfigKey("grad_clip", .float, default: .float(1.0), doc: "global gradient-norm clip (0 = off)"),
        ConfigKey("ema_decay", .float, default: .float(0.0), doc: "EMA decay of the trained weights (0 = off)"),
        .integer("checkpoint_every", default: checkpointEvery, doc: "training checkpoint every K steps", in: 0...10_000_000,
                 affectsOutput: false),
        .integer("log_every", default: 10, doc: "log and record the loss every N steps", in: 1...1_000_000, affectsOutput: false),
        .integer("resolution", default: 32, doc: "world image side (multiple of 16)", in: 16...512),
        .integer("subjects_per_category", default: 16, doc: "training subjects per category", in: 1...10_000),
        ConfigKey("precision", .string, default: .string("fp32"),
                  doc: "arithmetic of the training step's matrix products: fp32 | bf16 (mixed precision: bfloat16 operands, FP32 "
                      + "accumulation, weights, gradients and optimizer; CPUs with AVX512-BF16 only)", optIn: true,
                  check: ConfigKey.oneOf(GEMMPrecision.allCases.map(\.rawValue), refusing: GEMMPrecision.unavailableHere)),
    ]
}

func trainSettings(_ r: StageRunner) -> TrainSettings {
    let c = r.config
    return TrainSettings(steps: c.int("steps"), batchSize: c.int("batch"), learningRate: c.double("lr"),
                         warmupSteps: c.int("warmup"), weightDecay: c.double("weight_decay"),
                         gradClip: c.double("grad_clip"), emaDecay: c.double("ema_decay"),
                         seed: stageSeed(r), stopAt: c.int("stop_at") == 0 ? nil : c.int("stop_at"),
                         precision: GEMMPrecision(rawValue: c.string("precision")) ?? .fp32)
}

/// The stage's own seed: the run seed folded with the stage name (so the four stages draw different data).
func stageSeed(_ r: StageRunner) -> UInt64 {
    let k = RNGKey(seed: UInt64(bitPattern: Int64(r.run.seed))).fold(in: r.stage)
    return UInt64(k.k0) << 32 | UInt64(k.k1)
}

/// The world data of a stage: training subjects for the pipeline's models, `.validation` for the judges.
func dataConfig(_ r: StageRunner, split: Split = .train) -> WorldDataConfig {
    WorldDataConfig(resolution: r.config.int("resolution"), split: split,
                    subjectsPerCategory: r.config.int("subjects_per_category"))
}

/// The shape keys of the stages that train a ViT from scratch (pretrain-vit, pretrain-dino-judge).
func vitShapeKeys() -> [ConfigKey] {
    [
        .integer("width", default: 96, doc: "ViT width", in: 8...4096),
        .integer("depth", default: 12, doc: "ViT blocks (12: the paper's layer table maps 1:1)", in: 1...64),
        .integer("heads", default: 3, doc: "attention heads", in: 1...64),
        .integer("mlp", default: 384, doc: "MLP hidden width", in: 8...16384),
        .integer("patch", default: 4, doc: "patch size", in: 1...64),
    ]
}

/// The ViT of `vitShapeKeys` at the stage's `resolution`.
func vitConfig(_ c: ConfigSection, classes: Int? = nil, stemChannels: [Int] = [], pool: ViTPool = .token) -> ViTConfig {
    ViTConfig(imageSize: c.int("resolution"), patchSize: c.int("patch"), width: c.int("width"), depth: c.int("depth"),
              heads: c.int("heads"), mlpDim: c.int("mlp"), classes: classes, stemChannels: stemChannels, pool: pool)
}

/// `clean_fraction`: the share of renders on the clean background, in 0...1.
func cleanFractionKey(default d: Double, doc: String) -> ConfigKey {
    .float("clean_fraction", default: d, doc: doc, in: 0...1)
}

/// A pretrain stage's two outputs: the weights file (kind `checkpoint/<what>`) and its record (kind `record`).
struct PretrainOutput {
    let weightsName: String
    let kind: String
}

/// How many checkpoints a training keeps (the newest; older ones are deleted as new ones land): a
/// 20000-step U-Net run with a checkpoint every 100 steps would otherwise hold 200 x 100 MB.
let keptCheckpoints = 3

/// Runs the training loop of a whole stage with StageKit checkpoints: resumes from the newest verified
/// checkpoint, saves one every `checkpoint_every` steps and when interrupted (keeping the newest
/// `keptCheckpoints`), logs and records the loss.
/// `curve` (when given) is measured every `curveEvery` steps and at the end, on the EMA weights when the
/// run keeps an EMA (what the stage will ship), and recorded as metrics
/// `curve_<name>` at that step (the learning curve: gate metrics against samples seen). A non-finite loss
/// or gradient norm stops the stage (`StageError.diverged`) without saving the step.
func trainWithCheckpoints(_ ctx: StageContext, trainer: Trainer, curveEvery: Int = 0,
                          curve: ((Trainer) throws -> [String: Double])? = nil) throws {
    let r = ctx.runner
    let every = r.config.int("checkpoint_every"), logEvery = r.config.int("log_every")
    let root = r.layout.artifacts(r.stage).appendingPathComponent("checkpoints", isDirectory: true)
    if let latest = try ctx.checkpoints.latest() {
        let dir = ctx.checkpoints.directory(step: latest.step)
        let state = try TrainingCheckpoint.load(dir, rng: RandomStream.self)
        try trainer.restore(state, path: dir.path)
        r.log.info("resumed from checkpoint step \(latest.step)")
    }
    func save() throws {
        let dir = try TrainingCheckpoint.save(trainer.state(), root: root)
        let files = try FileManager.default.contentsOfDirectory(at: dir, includingPropertiesForKeys: nil)
            .filter { !$0.lastPathComponent.hasPrefix(".") }.sorted { $0.path < $1.path }
        try ctx.checkpoints.record(step: trainer.step, files: files)
        try ctx.checkpoints.prune(keepingNewest: keptCheckpoints)
    }
    let started = Date(), startStep = trainer.step
    var window: [Float] = []
    while !trainer.isDone {
        let loss = try trainer.trainStep()
        guard loss.isFinite, trainer.lastGradNorm.isFinite else {
            throw StageError.diverged(stage: r.stage, step: trainer.step - 1, what: loss.isFinite ? "gradient norm" : "loss")
        }
        window.append(loss)
        if trainer.step % logEvery == 0 || trainer.isDone {
            let mean = window.reduce(0, +) / Float(window.count)
            window.removeAll()
            let rate = Date().timeIntervalSince(started) / Double(max(1, trainer.step - startStep))
            r.log.info("step \(trainer.step)/\(trainer.settings.steps) loss \(String(format: "%.4f", mean)) "
                       + "grad_norm \(String(format: "%.3f", trainer.lastGradNorm)) (\(String(format: "%.2f", rate)) s/step this process)")
            try ctx.metric("loss", step: trainer.step, Double(mean))
            try ctx.metric("grad_norm", step: trainer.step, Double(trainer.lastGradNorm))
        }
        if let curve, curveEvery > 0, trainer.step % curveEvery == 0 || trainer.isDone {
            let m = try trainer.withEMAWeights { try curve(trainer) }
            for (k, v) in m.sorted(by: { $0.key < $1.key }) { try ctx.metric("curve_" + k, step: trainer.step, v) }
            r.log.info("curve at step \(trainer.step) (\(trainer.step * trainer.settings.batchSize) batch rows seen): "
                       + m.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.3f", $0.value))" }.joined(separator: ", "))
        }
        if CheckpointStore.isDue(step: trainer.step, every: every) && !trainer.isDone { try save() }
        do { try ctx.checkInterrupt() } catch {
            try save()
            throw error
        }
    }
}

/// Writes the weights and the record as artifacts and the metrics into the manifest.
func writeOutputs(_ ctx: StageContext, weights: SafeTensorsFile, output: PretrainOutput, record: PretrainRecord) throws -> [NewArtifact] {
    let r = ctx.runner
    let data = SafeTensors.encode(weights)
    let w = try r.writeArtifact(data, name: output.weightsName, kind: output.kind)
    var rec = record
    // Every output-affecting key of the section (data keys such as subjects_per_category and
    // clean_fraction too), so the record alone says how the weights were made.
    for key in r.config.schema.keys where key.affectsOutput && key.name != "from" && rec.training[key.name] == nil {
        rec.training[key.name] = r.config.value(key.name).canonical
    }
    rec.weightsFile = output.weightsName
    rec.weightsSHA256 = w.sha256
    let recName = (output.weightsName as NSString).deletingPathExtension + ".json"
    let j = try r.writeArtifact(try rec.encoded(), name: recName, kind: "record")
    for (k, v) in rec.metrics.sorted(by: { $0.key < $1.key }) {
        try ctx.metric(k, step: rec.steps, v)
        r.log.info("gate \(k) = \(String(format: "%.4f", v))")
    }
    return [w, j]
}

/// `from = <dir>`: copies `<dir>/<weights>` and its record into the stage's outputs after checking the
/// record (stage name, SHA-256 of the weights).
func importShipped(_ ctx: StageContext, from dir: String, output: PretrainOutput) throws -> [NewArtifact] {
    let r = ctx.runner
    let base = URL(fileURLWithPath: dir)
    let wURL = base.appendingPathComponent(output.weightsName)
    let recName = (output.weightsName as NSString).deletingPathExtension + ".json"
    let record = try PretrainRecord.read(base.appendingPathComponent(recName))
    guard record.stage == r.stage else {
        throw PretrainedError.badCheckpoint(path: base.appendingPathComponent(recName).path,
                                            reason: "record is for stage \(record.stage), not \(r.stage)")
    }
    /// The bytes of `url`, refused unless their SHA-256 is the record's `field`.
    func verified(_ url: URL, _ sha: String?, _ field: String) throws -> Data {
        guard let data = FileManager.default.contents(atPath: url.path) else { throw PretrainedError.missingCheckpoint(path: url.path) }
        guard SHA256.hex(data) == sha else {
            throw PretrainedError.badCheckpoint(path: url.path, reason: "SHA-256 differs from `\(field)` in \(recName) (edited or truncated)")
        }
        return data
    }
    let data = try verified(wURL, record.weightsSHA256, "weightsSHA256")
    // A U-Net's own text tower travels with it (the record names it and its SHA-256).
    var extra: [NewArtifact] = []
    if let name = record.textEncoderFile {
        let text = try verified(base.appendingPathComponent(name), record.textEncoderSHA256, "textEncoderSHA256")
        extra.append(try r.writeArtifact(text, name: name, kind: "checkpoint/text-model"))
    }
    let w = try r.writeArtifact(data, name: output.weightsName, kind: output.kind)
    let j = try r.writeArtifact(try record.encoded(), name: recName, kind: "record")
    for (k, v) in record.metrics.sorted(by: { $0.key < $1.key }) { try ctx.metric(k, step: record.steps, v) }
    r.log.info("imported \(wURL.path) (record verified)")
    return extra + [w, j]
}

/// A pretrain stage's weights file and its record.
typealias UpstreamFiles = (weights: URL, record: PretrainRecord)

/// Finds the newest finished output `name` of `stage` in this run (nil when that stage has not run).
func optionalUpstream(_ r: StageRunner, stage: String, name: String) -> (weights: URL, record: PretrainRecord)? {
    guard let arts = try? r.upstreamOutputs(stage),
          let w = arts.first(where: { $0.relativePath.hasSuffix("/" + name) }),
          let j = arts.first(where: { $0.relativePath.hasSuffix("/" + (name as NSString).deletingPathExtension + ".json") }),
          r.verify([w, j]).isEmpty,
          let rec = try? PretrainRecord.read(r.layout.root.appendingPathComponent(j.relativePath)) else { return nil }
    return (r.layout.root.appendingPathComponent(w.relativePath), rec)
}

/// The required output `name` of upstream `stage` (verified), or a typed error naming the stage.
func requiredUpstream(_ r: StageRunner, stage: String, name: String) throws -> (weights: URL, record: PretrainRecord) {
    let arts = try r.upstreamOutputs(stage)
    guard let w = arts.first(where: { $0.relativePath.hasSuffix("/" + name) }),
          let j = arts.first(where: { $0.relativePath.hasSuffix("/" + (name as NSString).deletingPathExtension + ".json") }) else {
        throw StageError.upstreamMissing(stage: r.stage, upstreams: [stage])
    }
    _ = try r.readVerified(w, upstream: stage)
    _ = try r.readVerified(j, upstream: stage)
    return (r.layout.root.appendingPathComponent(w.relativePath),
            try PretrainRecord.read(r.layout.root.appendingPathComponent(j.relativePath)))
}

/// Kernel and OpenBLAS threads from `--threads` / `[run].threads` (results do not depend on it).
func configureThreads(_ r: StageRunner) {
    Threads.configure(count: max(1, r.run.threads))
}

/// The skeleton of every pretrain stage: one whole-stage unit on StageKit (threads from the config) whose
/// body imports the shipped checkpoint when `from` is set and otherwise runs `train`. `prepare` runs before
/// the unit (so a missing upstream stops the stage with its name) and returns the unit's inputs and what
/// `train` needs from upstream.
func runPretrainStage<Prepared>(_ definition: StageDefinition, options: CommonOptions, output: PretrainOutput,
                                prepare: @escaping (StageRunner) throws -> ([ArtifactRecord], Prepared),
                                train: @escaping (StageRunner, StageContext, Prepared) throws -> [NewArtifact]) throws {
    try StageMain.run(definition, options: options) { r in
        configureThreads(r)
        let (inputs, prepared) = try prepare(r)
        // An import's fingerprint includes the shipped weights' hash (from their record), so a newly
        // shipped checkpoint replaces an older import instead of being skipped as up to date.
        let from = r.config.string("from")
        if !from.isEmpty, let rec = try? PretrainRecord.read(URL(fileURLWithPath: from).appendingPathComponent(
            (output.weightsName as NSString).deletingPathExtension + ".json")) {
            r.externalInputHashes = [rec.weightsSHA256]
        }
        // A warm start's weights enter the fingerprint the same way: a training from other `init_from` weights
        // (the same path rewritten, or a checkpoint directory that moved on) is another training, not a resume.
        if from.isEmpty, r.config.values["init_from"] != nil, let hash = WarmStart.sourceHash(r.config.string("init_from")) {
            r.externalInputHashes = [hash]
        }
        try r.runWhole(inputs: inputs) { ctx in
            if !from.isEmpty { return try importShipped(ctx, from: from, output: output) }
            return try train(r, ctx, prepared)
        }
    }
}

/// `runPretrainStage` for a stage with no upstream.
func runPretrainStage(_ definition: StageDefinition, options: CommonOptions, output: PretrainOutput,
                      train: @escaping (StageRunner, StageContext) throws -> [NewArtifact]) throws {
    try runPretrainStage(definition, options: options, output: output, prepare: { _ in ([], ()) }) { r, ctx, _ in
        try train(r, ctx)
    }
}
