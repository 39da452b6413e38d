import Checkpoint
import Foundation
import Imaging
import Manifest
import Models
import Optim
import PatchQuality
import StageKit
import TensorCore
import Upstream
import World

/// The whole-stage body: load, score before, train with checkpoints (resuming from the newest),
/// score after, write the outputs. The maths lives in PatchQuality.
struct SSLStageBody {
    let context: StageContext
    let inputs: [ArtifactRecord]
    var r: StageRunner { context.runner }

    func run() throws -> [NewArtifact] {
        let c = r.config
        Threads.configure(count: r.run.threads)
        let original = try UpstreamModels(runner: r).vit(defaultHeads: c.int("heads"))
        let depth = original.config.depth
        let (evalBlocks, dropped) = ViTLoading.partition(blocks: c.ints("eval_blocks"), depth: depth)
        if !dropped.isEmpty { r.log.warn("eval_blocks \(dropped) skipped: the ViT has depth \(depth)") }
        let wanted = c.ints("loss_blocks")
        guard let lossBlocks = ViTLoading.capped(blocks: wanted, depth: depth) else {
            throw PatchQualityError.badConfig(key: "loss_blocks", detail: "\(wanted) must be a non-empty list of blocks >= 1")
        }
        if lossBlocks != wanted { r.log.warn("loss_blocks \(wanted) capped to \(lossBlocks): the ViT has depth \(depth)") }
        let images = try poolImages(size: original.config.imageSize)
        r.log.info("\(images.shape[0]) pool image(s) at \(original.config.imageSize)px; ViT depth \(depth), width \(original.config.width)")

        let (sets, hpatchesFiles) = try evaluationSets(size: original.config.imageSize)
        func table(_ vit: ViT, _ model: String) -> [MatchingRow] {
            sets.flatMap { MatchingEvaluator.evaluate(vit, sequences: $0.1, blocks: evalBlocks, source: $0.0, model: model) }
        }
        let before = table(original, "before")
        var tc = SSLTrainingConfig()
        tc.epochs = c.int("epochs"); tc.batchSize = c.int("batch_size"); tc.learningRate = c.double("lr")
        tc.momentum = c.double("momentum"); tc.lambdaReg = Float(c.double("lambda_reg")); tc.blocks = lossBlocks
        tc.photometric = Float(c.double("photometric"))
        tc.seed = UInt64(r.run.seed)
        let trainer = try train(original: original, images: images, config: tc)
        let rows = before + table(trainer.model, "after")
        for row in rows where row.source == "world" {
            try context.metric("patch_matching_\(row.model)_block\(row.block)", step: trainer.step, row.exact.percent)
        }
        return hpatchesFiles + (try writeOutputs(trainer: trainer, rows: rows))
    }

    /// World sequences (written under `hpatches/` and returned as outputs) and the real folder if any.
    func evaluationSets(size: Int) throws -> (sets: [(String, [HPatchesSequence])], outputs: [NewArtifact]) {
        let c = r.config
        let world = try HPatches.makeSet(count: c.int("hpatches_count"), seed: UInt64(c.int("hpatches_seed")), size: size)
        let dir = r.layout.artifacts(r.stage).appendingPathComponent("hpatches")
        try? FileManager.default.removeItem(at: dir)
        for seq in world { try HPatches.write(seq, to: dir.path) }
        var sets: [(String, [HPatchesSequence])] = [("world", world)]
        let real = c.string("hpatches_dir")
        if !real.isEmpty { sets.append(("hpatches", try HPatches.readAll(root: real))) }
        return (sets, try recordTree(dir, kind: "hpatches"))
    }

    /// Trains a copy of `original` against it, resuming from the newest verified checkpoint of this
    /// stage run, checkpointing every K steps and on SIGINT/SIGTERM (then stopping).
    func train(original: ViT, images: Tensor, config: SSLTrainingConfig) throws -> SSLTrainer {
        let model = try ViT(config: original.config, key: .init(seed: 0))
        try model.loadStrict(original.stateDict(), path: "pretrain-vit")
        let trainer = SSLTrainer(model: model, frozen: original, images: images, config: config)
        if let (step, files) = try context.checkpoints.latest() {
            let dir = r.layout.root.appendingPathComponent(files[0].relativePath).deletingLastPathComponent()
            try trainer.restore(try TrainingCheckpoint.load(dir, rng: SSLSchedule.self), path: dir.path)
            r.log.info("resumed from the checkpoint of step \(step)")
        }
        let root = r.layout.artifacts(r.stage).appendingPathComponent("checkpoints")
        func save() throws {
            let dir = try TrainingCheckpoint.save(trainer.state(), root: root)
            let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
            try context.checkpoints.record(step: trainer.step, files: names.map { dir.appendingPathComponent($0) })
        }
        let every = r.config.int("checkpoint_every")
        r.log.info("training \(trainer.schedule.totalSteps - trainer.step) step(s) of \(trainer.schedule.totalSteps)")
        while !trainer.isFinished {
            let (loss, eq, reg) = trainer.trainStep()
            try context.metric("loss", step: trainer.step, Double(loss))
            try context.metric("equivariance", step: trainer.step, Double(eq))
            try context.metric("regularizer", step: trainer.step, Double(reg))
            if !loss.isFinite {
                throw PatchQualityError.badConfig(key: "lr", detail: "the loss became \(loss) at step \(trainer.step); lower lr")
            }
            let due = CheckpointStore.isDue(step: trainer.step, every: every)
            if due { try save() }
            if Interrupts.received != nil {
                if !due { try save() }
                try context.checkInterrupt()
            }
        }
        return trainer
    }

    /// vit-ssl.safetensors (with heads, steps, seed, config in its metadata) and the table as CSV and JSON.
    func writeOutputs(trainer: SSLTrainer, rows: [MatchingRow]) throws -> [NewArtifact] {
        var file = trainer.model.stateDict()
        file.metadata = ["heads": "\(trainer.model.config.heads)", "steps": "\(trainer.step)", "seed": "\(r.run.seed)",
                         "config": String(decoding: try sortedJSON.encode(trainer.model.config), as: UTF8.self)]
        let csv = ([MatchingRow.csvHeader] + rows.map(\.csvLine)).joined(separator: "\n") + "\n"
        let enc = sortedJSON
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        let doc = MatchingDocument(training: trainer.config, steps: trainer.step, images: trainer.images.shape[0], rows: rows)
        return [
            try r.writeArtifact(SafeTensors.encode(file), name: "vit-ssl.safetensors", kind: "checkpoint/vit-ssl"),
            try r.writeArtifact(Data(csv.utf8), name: "patch-matching.csv", kind: "table"),
            try r.writeArtifact(try enc.encode(doc), name: "patch-matching.json", kind: "table"),
        ]
    }

    /// Every reference and generated pool PNG (`pool/<key>/reference.png`, `gen-<k>.png`, in key
    /// order), resized to the ViT's size; unreadable ones are skipped with a warning naming the file.
    func poolImages(size: Int) throws -> Tensor {
        let records = Dictionary(inputs.filter { $0.relativePath.hasPrefix("artifacts/generate-pool/") }.map { ($0.relativePath, $0) },
                                 uniquingKeysWith: { a, _ in a })
        let pool = PoolItem.items(paths: Array(records.keys)).flatMap { [$0.reference].compactMap { $0 } + $0.generated }
            .map { records[$0]! }
        var images: [Image] = []
        let limit = r.config.int("max_images")
        for a in pool where limit == 0 || images.count < limit {
            let data = try r.readVerified(a, upstream: "generate-pool")
            do { images.append(try PNG.decode([UInt8](data), name: r.layout.root.appendingPathComponent(a.relativePath).path)) } catch {
                r.log.warn("skipping an unreadable pool image: \(error)")
            }
        }
        guard !images.isEmpty else {
            throw PatchQualityError.noData(what: "pool images (generate-pool recorded \(pool.count) PNG file(s))",
                                           hint: "rerun generate-pool, which writes pool/<key>/reference.png and gen-<k>.png")
        }
        return PatchFeatureExtractor.tensor(images, size: size)
    }

    /// Records every file under `dir` (already written) as an artifact of `kind`.
    func recordTree(_ dir: URL, kind: String) throws -> [NewArtifact] {
        guard let e = FileManager.default.enumerator(atPath: dir.path) else { return [] }
        var out: [NewArtifact] = []
        for case let name as String in e {
            let url = dir.appendingPathComponent(name)
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir), !isDir.boolValue else { continue }
            let data = try Data(contentsOf: url)
            out.append(NewArtifact(kind: kind, relativePath: r.layout.relative(url), sha256: SHA256.hex(data), bytes: Int64(data.count)))
        }
        return out.sorted { $0.relativePath < $1.relativePath }
    }
}

/// Key order fixed, so outputs are the same bytes on every run (a resumed run's too).
var sortedJSON: JSONEncoder {
    let e = JSONEncoder()
    e.outputFormatting = [.sortedKeys]
    return e
}

/// `patch-matching.json`: the training settings and the table rows.
struct MatchingDocument: Encodable {
    let training: SSLTrainingConfig
    let steps: Int
    let images: Int
    let rows: [MatchingRow]
}
