import Checkpoint
import Foundation
import Imaging
import Manifest
import Models
import Optim
import PatchQuality
import StageKit
import TensorCore
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
        let original = try loadPretrainedViT(r, inputs: inputs, defaultHeads: c.int("heads"))
        let size = original.config.imageSize
        let (evalBlocks, dropped) = ViTLoading.partition(blocks: c.ints("eval-blocks"), depth: original.config.depth)
        if !dropped.isEmpty { r.log.warn("eval-blocks \(dropped) skipped: the ViT has depth \(original.config.depth)") }
        // Loss blocks past the depth are capped at the last block (a shallow smoke ViT has no block 7).
        let depth = original.config.depth
        let wanted = c.ints("loss-blocks")
        if wanted.isEmpty || wanted.contains(where: { $0 < 1 }) {
            throw PatchQualityError.badConfig(key: "loss-blocks", detail: "\(wanted) must be a non-empty list of blocks >= 1")
        }
        var lossBlocks: [Int] = []
        for b in wanted.map({ min($0, depth) }) where !lossBlocks.contains(b) { lossBlocks.append(b) }
        if wanted.contains(where: { $0 > depth }) { r.log.warn("loss-blocks \(wanted) capped to \(lossBlocks): the ViT has depth \(depth)") }
        let images = try poolImages(size: size)
        r.log.info("\(images.shape[0]) pool image(s) at \(size)x\(size); ViT depth \(original.config.depth), width \(original.config.width)")

        // Evaluation sets: world sequences (written as outputs) and an optional real folder.
        var outputs: [NewArtifact] = []
        let world = try HPatches.makeSet(count: c.int("hpatches-count"), seed: UInt64(c.int("hpatches-seed")), size: size)
        let hpDir = r.layout.artifacts(r.stage).appendingPathComponent("hpatches")
        try? FileManager.default.removeItem(at: hpDir)
        for seq in world { try HPatches.write(seq, to: hpDir.path) }
        outputs += try recordTree(hpDir, kind: "hpatches")
        var sets: [(String, [HPatchesSequence])] = [("world", world)]
        let realDir = c.string("hpatches-dir")
        if !realDir.isEmpty { sets.append(("hpatches", try HPatches.readAll(root: realDir))) }
        func table(_ vit: ViT, _ model: String) -> [MatchingRow] {
            sets.flatMap { MatchingEvaluator.evaluate(vit, sequences: $0.1, blocks: evalBlocks, source: $0.0, model: model) }
        }
        let before = table(original, "before")

        // Training (resumes from the newest verified checkpoint of this stage run).
        var tc = SSLTrainingConfig()
        tc.epochs = c.int("epochs"); tc.batchSize = c.int("batch-size"); tc.learningRate = c.double("lr")
        tc.momentum = c.double("momentum"); tc.lambdaReg = Float(c.double("lambda-reg")); tc.blocks = lossBlocks
        tc.seed = UInt64(r.run.seed)
        let model = try ViT(config: original.config, key: .init(seed: 0))
        try model.loadStrict(original.stateDict(), path: "pretrain-vit")
        let trainer = SSLTrainer(model: model, frozen: original, images: images, config: tc)
        let root = r.layout.artifacts(r.stage).appendingPathComponent("checkpoints")
        if let (step, files) = try context.checkpoints.latest() {
            let dir = r.layout.root.appendingPathComponent(files[0].relativePath).deletingLastPathComponent()
            try trainer.restore(try TrainingCheckpoint.load(dir, rng: SSLSchedule.self), path: dir.path)
            r.log.info("resumed from the checkpoint of step \(step)")
        }
        let every = c.int("checkpoint-every")
        func save() throws {
            let dir = try TrainingCheckpoint.save(trainer.state(), root: root)
            let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
            try context.checkpoints.record(step: trainer.step, files: names.map { dir.appendingPathComponent($0) })
        }
        r.log.info("training \(trainer.schedule.totalSteps - trainer.step) step(s) of \(trainer.schedule.totalSteps)")
        while !trainer.isFinished {
            let (loss, eq, reg) = trainer.trainStep()
            try context.metric("loss", step: trainer.step, Double(loss))
            try context.metric("equivariance", step: trainer.step, Double(eq))
            try context.metric("regularizer", step: trainer.step, Double(reg))
            if !loss.isFinite {
                throw PatchQualityError.badConfig(key: "lr", detail: "the loss became \(loss) at step \(trainer.step); lower lr")
            }
            if CheckpointStore.isDue(step: trainer.step, every: every) { try save() }
            if Interrupts.received != nil {
                if !CheckpointStore.isDue(step: trainer.step, every: every) { try save() }
                try context.checkInterrupt()
            }
        }
        let after = table(trainer.model, "after")

        // Outputs.
        var file = trainer.model.stateDict()
        file.metadata = ["heads": "\(original.config.heads)", "steps": "\(trainer.step)", "seed": "\(r.run.seed)",
                         "config": String(decoding: try sortedJSON.encode(original.config), as: UTF8.self)]
        outputs.append(try r.writeArtifact(SafeTensors.encode(file), name: "vit-ssl.safetensors", kind: "checkpoint/vit-ssl"))
        let rows = before + after
        let csv = ([MatchingRow.csvHeader] + rows.map(\.csvLine)).joined(separator: "\n") + "\n"
        outputs.append(try r.writeArtifact(Data(csv.utf8), name: "patch-matching.csv", kind: "table"))
        let enc = sortedJSON
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        let doc = MatchingDocument(training: tc, steps: trainer.step, images: images.shape[0], rows: rows)
        outputs.append(try r.writeArtifact(try enc.encode(doc), name: "patch-matching.json", kind: "table"))
        for row in rows where row.source == "world" {
            try context.metric("patch_matching_\(row.model)_block\(row.block)", step: trainer.step, row.exact.percent)
        }
        return outputs
    }

    /// Every reference and generated pool PNG, resized to the ViT's size; unreadable ones are skipped
    /// with a warning naming the file.
    func poolImages(size: Int) throws -> Tensor {
        let pool = inputs.filter { $0.relativePath.hasPrefix("artifacts/generate-pool/") && $0.relativePath.hasSuffix(".png") }
            .sorted { $0.relativePath < $1.relativePath }
        var images: [Image] = []
        let limit = r.config.int("max-images")
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

extension ConfigSection {
    func ints(_ key: String) -> [Int] {
        guard case let .array(items) = value(key) else { preconditionFailure("[\(name)].\(key) is not an array") }
        return items.map { item in
            guard case let .integer(i) = item else { preconditionFailure("[\(name)].\(key) holds \(item.typeName), not integer") }
            return Int(i)
        }
    }
}
