import Checkpoint
import Diffusion
import Foundation
import Manifest
import Objectives
import Optim
import Random
import StageKit
import Upstream

/// The dpo-train lifecycle: load the frozen models and the pairs, then train one adapter per
/// `DPORun` (loss x ViT of `patchdpo_vits` for PatchDPO-family losses x seed of `seeds`), in plan order,
/// inside one stage run. Global step g = (run index) * steps + local step; every run ends with a
/// checkpoint, so a resumed stage reloads finished runs' adapters from their last checkpoint and
/// continues the current run bit-for-bit. Runs of one (loss, seed) share the (t, eps) and pair-order
/// stream whatever the ViT, so the two PatchDPO variants differ only by their quality maps.
func runDPOTrain(_ r: StageRunner) throws {
    let c = r.config
    let kinds = c.strings("losses").map { LossKind(rawValue: $0)! }
    let runs = DPORun.plan(losses: kinds, vits: c.strings("patchdpo_vits"), seeds: c.ints("seeds"))
    let up = UpstreamModels(runner: r)
    try r.runWhole(inputs: try up.artifacts.inputs(r.definition.upstream)) { ctx in
        let models = try LoadedModels.load(up)
        let encoder = PairEncoder(up: up.artifacts, models: models, resolution: models.resolution)
        var encoded: [String: [EncodedPair]] = [:]           // by pairs file + the ViT of the maps
        func pairs(for run: DPORun) throws -> [EncodedPair] {
            let kind = run.kind
            let name = kind.usesPoolPairs ? "pairs.json" : "patchdpo-pairs.json"
            let maps = kind.usesPoolPairs ? nil : run.vit
            // DCO trains on the reference images; DCO 4.3 describes them with comprehensive captions.
            let comprehensive = kind == .dco && c.string("dco_captions") == "comprehensive"
            let cacheKey = name + "|" + (maps ?? "") + (comprehensive ? "|comprehensive" : "")
            if let e = encoded[cacheKey] { return e }
            let a = try up.artifacts.artifact(name, of: "score-and-pair")
            let listed = try PairLists.parse(try up.artifacts.data(a, of: "score-and-pair"), path: up.artifacts.url(a).path,
                                             pool: kind.usesPoolPairs)
            let e = try encoder.encode(listed, mapsOf: maps, comprehensiveCaptions: comprehensive)
            r.log.info("encoded \(e.count) pairs from \(name)" + (maps.map { " with the \($0) ViT's quality maps" } ?? "")
                       + (comprehensive ? " with comprehensive captions (DCO 4.3)" : ""))
            encoded[cacheKey] = e
            return e
        }
        let steps = c.int("steps"), every = c.int("checkpoint_every")
        let root = r.layout.artifacts(r.stage).appendingPathComponent("checkpoints", isDirectory: true)
        let resumeStep = try ctx.checkpoints.latest()?.step ?? 0
        var outputs: [NewArtifact] = []
        for (index, run) in runs.enumerated() {
            let kind = run.kind, label = run.name
            let base = index * steps
            let policy = AdapterPolicy(unet: models.unet, resampler: models.resampler,
                                       trainResampler: c.bool("train_resampler"), ipScale: Float(c.double("ip_scale")))
            try policy.loadAdapter(models.adapter, path: models.adapterPath)
            try policy.loadAdapter(models.adapter, path: models.adapterPath, asReference: true)
            var optimizer = AdamW(learningRate: c.double("lr"), weightDecay: c.double("weight_decay"))
            // The loss is not in the key: every loss of one seed sees the same pair order and (t, eps) draws,
            // so their logged losses compare step by step (dm against patchdpo on the same noise).
            var rng = RandomStream(key: RNGKey(seed: UInt64(r.run.seed)).fold(in: "dpo-train")
                                       .fold(in: UInt64(bitPattern: Int64(run.seed))))
            var step = 0
            var last: StepMetrics?
            if resumeStep > base {
                let at = min(resumeStep, base + steps)
                let (restored, meta) = try AdapterCheckpoint.restoreWithMetadata(from: ctx.checkpoints.directory(step: at), policy: policy,
                                                                                 optimizer: &optimizer, rng: &rng)
                step = restored - base
                // The last step's metrics travel with the checkpoint: a run resumed at its final step still
                // records its final loss (issue 19 item 7).
                if let l = meta["last_loss"].flatMap(Double.init) {
                    last = StepMetrics(loss: l, implicitAccuracy: meta["last_implicit_acc"].flatMap(Double.init), gradNorm: 0, parts: [:])
                }
                r.log.info("\(label): resumed at step \(step)/\(steps)")
            }
            let beta = c.double("beta") > 0 ? Float(c.double("beta")) : nil
            let dropout = ConditionDropout(text: Float(c.double("drop_text")), image: Float(c.double("drop_image")),
                                           both: Float(c.double("drop_both")))
            let objective = PreferenceObjective(kind: kind, beta: beta, lambdaStat: Float(c.double("lambda_stat")),
                                                sampledStatStep: c.string("stat_step") == "sample", schedule: models.schedule,
                                                conditionDropout: dropout, nullText: encoder.nullText, nullImage: encoder.nullImage)
            func save() throws {
                var meta = ["loss": kind.rawValue, "run": label]
                if let last {
                    meta["last_loss"] = "\(last.loss)"
                    if let a = last.implicitAccuracy { meta["last_implicit_acc"] = "\(a)" }
                }
                let dir = try AdapterCheckpoint.save(policy: policy, optimizer: optimizer, rng: rng, step: base + step, root: root,
                                                     metadata: meta)
                let files = try FileManager.default.contentsOfDirectory(at: dir, includingPropertiesForKeys: nil)
                    .filter { !$0.lastPathComponent.hasPrefix(".") }.sorted { $0.path < $1.path }
                try ctx.checkpoints.record(step: base + step, files: files)
            }
            let data = step < steps ? try pairs(for: run) : []
            while step < steps {
                let indices = (0..<c.int("batch")).map { _ in rng.nextInt(in: 0..<data.count) }
                let m = try objective.step(policy: policy, batch: data.batch(indices, kind: kind), rng: &rng,
                                           optimizer: &optimizer, maxGradNorm: c.double("max_grad_norm"))
                guard m.loss.isFinite, m.gradNorm.isFinite else {
                    // The update is not saved: the last checkpoint stays the newest, and no adapter is written.
                    throw StageError.diverged(stage: r.stage, step: base + step, what: "\(label) " + (m.loss.isFinite ? "gradient norm" : "loss"))
                }
                step += 1
                last = m
                try ctx.metric("\(label)/loss", step: step, m.loss)
                try ctx.metric("\(label)/grad_norm", step: step, m.gradNorm)
                if let acc = m.implicitAccuracy { try ctx.metric("\(label)/implicit_acc", step: step, acc) }
                // The loss's parts (patchdpo's mean_weight, the DPO terms, dropped_pairs, ...), per step.
                for (name, v) in m.parts.sorted(by: { $0.key < $1.key }) { try ctx.metric("\(label)/\(name)", step: step, v) }
                if step % c.int("log_every") == 0 || step == steps {
                    r.log.info("\(label) step \(step)/\(steps) loss \(String(format: "%.5f", m.loss)) grad_norm "
                               + String(format: "%.4f", m.gradNorm) + (m.implicitAccuracy.map { " implicit_acc \($0)" } ?? ""))
                }
                var saved = false
                if step == steps || CheckpointStore.isDue(step: step, every: every) { try save(); saved = true }
                do { try ctx.checkInterrupt() } catch { if !saved { try save() }; throw error }
            }
            var file = policy.adapterStateDict()
            file.metadata = ["loss": kind.rawValue, "steps": "\(steps)", "format": "ip-adapter", "seed": "\(run.seed)", "name": label]
            if let v = run.vit { file.metadata["vit"] = v }
            let weights = Checkpoint.SafeTensors.encode(file)
            outputs.append(try r.writeArtifact(weights, name: "adapter-\(label).safetensors", kind: "checkpoint/adapter"))
            let record = AdapterRecord(loss: kind.rawValue, steps: steps, seed: UInt64(bitPattern: Int64(run.seed)),
                                       codeVersion: r.definition.codeVersion, config: r.config.canonical, beta: Double(objective.beta),
                                       finalLoss: last?.loss, finalImplicitAccuracy: last?.implicitAccuracy,
                                       weightsSHA256: SHA256.hex(weights), vit: run.vit, name: label)
            outputs.append(try r.writeArtifact(try record.encoded(), name: "adapter-\(label).json", kind: "record"))
        }
        return outputs
    }
}
