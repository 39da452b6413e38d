import Checkpoint
import Foundation
import Manifest
import Objectives
import Optim
import Random
import TensorCore

/// One run of preference training: its policy (the base's starting weights, trainable, over the frozen network),
/// optimizer, stream, step and the metrics it has recorded (`history`, saved with every checkpoint so a resumed run
/// has its whole curve).
final class PreferenceRun {
    let run: DPORun
    let settings: PreferenceSettings
    let checkpoints: URL
    let policy: any PreferencePolicy
    let objective: PreferenceObjective
    var optimizer: AdamW
    var rng: RandomStream
    var step = 0
    /// The last step's metrics (restored with a checkpoint: a run resumed at its final step still records its final loss).
    var last: StepMetrics?
    /// Every metric recorded so far, in order (restored with a checkpoint).
    var history: [MetricHistory.Point] = []

    init(_ run: DPORun, settings s: PreferenceSettings, base: PreferenceBase, checkpoints: URL) throws {
        self.run = run; settings = s; self.checkpoints = checkpoints
        policy = base.makePolicy(s)
        try policy.weights.load(base.initial, path: base.initialPath)
        try policy.weights.load(base.initial, path: base.initialPath, asReference: true)
        optimizer = AdamW(learningRate: s.learningRate, weightDecay: s.weightDecay)
        // The loss is not in the key: every loss of one seed sees the same pair order and (t, eps) draws,
        // so their logged losses compare step by step (dm against patchdpo on the same noise).
        rng = RandomStream(key: RNGKey(seed: UInt64(s.seed)).fold(in: "dpo-train").fold(in: UInt64(bitPattern: Int64(run.seed))))
        objective = PreferenceObjective(kind: run.kind, beta: s.beta, lambdaStat: s.lambdaStat, sampledStatStep: s.sampledStatStep,
                                        schedule: base.schedule, conditionDropout: s.conditionDropout,
                                        nullText: base.nullText, nullImage: base.nullImage)
    }

    var label: String { run.name }
    var isDone: Bool { step >= settings.steps }

    /// Loads the checkpoint of step `at` (policy, optimizer, stream, and the metric history, which gives the last step's metrics and
    /// goes to `ledger.restoreMetrics`).
    func restore(at: Int, ledger: some PreferenceLedger) throws {
        let dir = TrainingCheckpoint.directory(root: checkpoints, step: at)
        let (restored, meta) = try PolicyCheckpoint.restoreWithMetadata(from: dir, policy: policy, optimizer: &optimizer, rng: &rng)
        step = restored
        history = try MetricHistory.decode(meta[MetricHistory.metadataKey] ?? "", path: dir.appendingPathComponent(TrainingCheckpoint.indexName).path)
        // The last step's metrics, which the record needs when the run resumes at its final step, are in the history.
        let atStep = { (name: String) in self.history.last { $0.name == "\(self.label)/\(name)" && $0.step == restored }?.value }
        if let l = atStep("loss") { last = StepMetrics(loss: l, implicitAccuracy: atStep("implicit_acc"), gradNorm: 0, parts: [:]) }
        ledger.restoreMetrics(history)
        ledger.info("\(label): resumed at step \(step)/\(settings.steps)")
    }

    /// The remaining steps on `data`: each draws its batch, steps, records its metrics, checkpoints when due, then
    /// asks the ledger whether to stop (checkpointing first when it had not). A non-finite step is not kept.
    func train(on data: [EncodedPair], ledger: some PreferenceLedger) throws {
        while step < settings.steps {
            let indices = (0..<settings.batch).map { _ in rng.nextInt(in: 0..<data.count) }
            let batch = data.batch(indices, kind: run.kind)
            let m = try GEMMPrecision.with(settings.precision) { () throws(ObjectivesError) -> StepMetrics in
                try objective.step(policy: policy, batch: batch, rng: &rng, optimizer: &optimizer, maxGradNorm: settings.maxGradNorm)
            }
            guard m.loss.isFinite, m.gradNorm.isFinite else {
                // The update is not saved: the last checkpoint stays the newest, and no weights are written.
                throw ledger.diverged(step: step, what: "\(label) " + (m.loss.isFinite ? "gradient norm" : "loss"))
            }
            step += 1
            last = m
            try report(m, ledger: ledger)
            let saved = RunTrainer.checkpointDue(step: step, steps: settings.steps, every: settings.checkpointEvery)
            if saved { try save(ledger: ledger) }
            do { try ledger.checkInterrupt() } catch { if !saved { try save(ledger: ledger) }; throw error }
        }
    }

    /// Metrics `<run>/loss`, `<run>/grad_norm`, `<run>/implicit_acc` and the loss's parts at this step; a log line
    /// every `logEvery` steps and at the last.
    func report(_ m: StepMetrics, ledger: some PreferenceLedger) throws {
        func record(_ name: String, _ value: Double) throws {
            history.append(MetricHistory.Point(name: "\(label)/\(name)", step: step, value: value))
            try ledger.metric("\(label)/\(name)", step: step, value)
        }
        try record("loss", m.loss)
        try record("grad_norm", m.gradNorm)
        if let acc = m.implicitAccuracy { try record("implicit_acc", acc) }
        // The loss's parts (patchdpo's mean_weight, the DPO terms, dropped_pairs, ...), per step.
        for (name, v) in m.parts.sorted(by: { $0.key < $1.key }) { try record(name, v) }
        if step % settings.logEvery == 0 || step == settings.steps {
            ledger.info("\(label) step \(step)/\(settings.steps) loss \(String(format: "%.5f", m.loss)) grad_norm "
                        + String(format: "%.4f", m.gradNorm) + (m.implicitAccuracy.map { " implicit_acc \($0)" } ?? ""))
        }
    }

    /// The checkpoint of this step, with the metric history in its metadata.
    func save(ledger: some PreferenceLedger) throws {
        let meta = ["loss": run.kind.rawValue, "run": label, MetricHistory.metadataKey: MetricHistory.encode(history)]
        let dir = try PolicyCheckpoint.save(policy: policy, optimizer: optimizer, rng: rng, step: step, root: checkpoints, metadata: meta)
        let files = try FileManager.default.contentsOfDirectory(at: dir, includingPropertiesForKeys: nil)
            .filter { !$0.lastPathComponent.hasPrefix(".") }.sorted { $0.path < $1.path }
        try ledger.recordCheckpoint(step: step, files: files)
    }

    /// Writes the trained weights (`<base>-<run>.safetensors`: the adapter, kind `checkpoint/adapter`, or JeDi's trained
    /// weights, kind `checkpoint/jedi`), their record, and their shipped form (`ShippedRun`: `<base>-<run>.shipped.safetensors`,
    /// kind `shipped/<base>`) for a run trained on inputs of digest `inputsDigest`.
    func finish(ledger: some PreferenceLedger, inputsDigest: String) throws -> [NewArtifact] {
        var file = policy.weights.stateDict()
        file.metadata = ["loss": run.kind.rawValue, "steps": "\(settings.steps)", "format": run.base == .jedi ? "jedi" : "ip-adapter",
                         "seed": "\(run.seed)", "name": label, "trainable": policy.trainableName]
        if let v = run.vit { file.metadata["vit"] = v }
        let weights = SafeTensors.encode(file)
        let record = AdapterRecord(loss: run.kind.rawValue, steps: settings.steps, seed: UInt64(bitPattern: Int64(run.seed)),
                                   codeVersion: settings.codeVersion, config: settings.config, beta: Double(objective.beta),
                                   finalLoss: last?.loss, finalImplicitAccuracy: last?.implicitAccuracy,
                                   weightsSHA256: SHA256.hex(weights), vit: run.vit, name: label, base: run.base,
                                   trainable: policy.trainableName)
        let shipped = ShippedRun.pack(trained: file, initial: policy.weights.frozenStateDict(), history: history, inputsDigest: inputsDigest)
        return [try ledger.write(weights, name: run.fileStem + ".safetensors", kind: "checkpoint/" + run.base.rawValue),
                try ledger.write(try record.encoded(), name: ShippedRun.recordName(run), kind: "record"),
                try ledger.write(SafeTensors.encode(shipped), name: ShippedRun.weightsName(run), kind: "shipped/" + run.base.rawValue)]
    }
}
