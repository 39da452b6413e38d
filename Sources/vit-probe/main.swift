import ArgumentParser
import Autograd
import Foundation
import Imaging
import Models
import NN
import Optim
import Random
import StageKit
import TensorCore
import Training
import World

/// `vit-probe`: a diagnostic, not a stage. Trains a fresh ViT category classifier on world renders
/// under chosen data settings and prints the running train accuracy (JSON lines every 50 steps) and
/// validation accuracy on three validation sets (clean canonical, clean posed, the pretrain-vit gate's
/// textured posed renders). It is how data/checkpoints/README.md's ViT experiments were measured:
/// e.g. `vit-probe --steps 400 --subjects 3000 --clean 1 --canonical-steps 400`.
struct VitProbe: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "vit-probe",
                                                    abstract: "Diagnostics of the patch-feature ViT (not a stage).",
                                                    version: BuildSources.version,
                                                    subcommands: [TrainProbe.self, AurocProbe.self, AlignedVariants.self], defaultSubcommand: TrainProbe.self)
}

struct TrainProbe: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "train",
                                                    abstract: "Train a small ViT classifier on world renders and report accuracies.")
    @Option(help: "optimizer steps") var steps = 300
    @Option(help: "batch size") var batch = 32
    @Option(help: "AdamW learning rate (20 warmup steps, then constant)") var lr = 1e-3
    @Option(help: "training subjects per category") var subjects = 16
    @Option(help: "share of clean-background renders after the canonical phase") var clean = 0.1
    @Option(help: "first steps on clean canonical renders (curriculum; 0 = none)") var canonicalSteps = 0
    @Option(help: "steps over which the clean share falls from 1 to --clean after the canonical phase") var rampSteps = 0
    @Flag(help: "canonical pose throughout (no random pose)") var noPose = false
    @Option(help: "ViT depth") var depth = 4
    @Option(help: "ViT width (MLP 4x, 2 heads)") var width = 64
    @Option(help: "conv stem channels, comma-separated (empty: plain patch embedding)") var stem = ""
    @Option(help: "classifier pooling: token | avg") var pool = "token"
    @Option(help: "weight of the figure-ground auxiliary loss (ForegroundAuxiliary; 0 = off)") var fgWeight: Float = 0
    @Option(help: "seed") var seed: UInt64 = 1
    @Option(help: "write the first training batch as a labelled contact sheet PNG here") var dumpBatch: String?
    @Option(help: "worker threads") var threads = 2

    func run() throws { try StageMain.command("vit-probe", work) }

    func work() throws {
        Threads.configure(count: threads)
        guard let pool = ViTPool(rawValue: self.pool) else {
            throw ValidationError("--pool \(self.pool): use one of \(ViTPool.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let cfg = ViTConfig(imageSize: 32, patchSize: 4, width: width, depth: depth, heads: 2, mlpDim: 4 * width,
                            classes: ObjectCategory.allCases.count,
                            stemChannels: stem.split(separator: ",").compactMap { Int($0) }, pool: pool)
        let vit = try ViT(config: cfg, key: RNGKey(seed: seed).fold(in: "init"))
        var opt = AdamW(learningRate: lr, weightDecay: 0.05)
        let base = WorldDataConfig(resolution: 32, split: .train, subjectsPerCategory: subjects, cleanFraction: clean, randomPose: !noPose)
        let task = ViTClassificationTask(vit: vit, data: base, seed: seed, batchSize: batch, foregroundWeight: fgWeight)
        var hits: [Int] = []
        for step in 0..<steps {
            var data = base
            if step < canonicalSteps { data.cleanFraction = 1; data.randomPose = false } else if step < canonicalSteps + rampSteps {
                data.cleanFraction = 1 - (1 - clean) * Double(step - canonicalSteps) / Double(rampSteps)
            }
            let b = try WorldData.batch(seed: seed, step: step, size: batch, config: data)
            if step == 0, let dumpBatch {
                let s = cfg.imageSize, n = s * s * 3
                let items = try (0..<batch).map { i in
                    (image: try Image(chw: Array(b.images.scalars[(i * n)..<((i + 1) * n)]), width: s, height: s, channels: 3),
                     caption: Optional(ObjectCategory.allCases[Int(b.labels[i])].noun))
                }
                try PNG.write(ContactSheet(columns: 8, scale: 3).render(items), to: dumpBatch)
            }
            let params = task.trainable
            for (_, p) in params { p.grad = nil }
            let (loss, logits) = task.loss(on: b)
            loss.backward()
            hits.append(zip(Gates.predictions(logits.value), b.labels).filter { $0 == Int($1) }.count)
            opt.learningRate = lr * min(1, Double(step + 1) / 20)
            for (k, p) in params.sorted(by: { $0.0 < $1.0 }) {
                guard let g = p.grad else { continue }
                g.scalars.withUnsafeBufferPointer { gp in p.value.scalars.withUnsafeMutableBufferPointer { opt.update(k, parameter: $0, gradient: gp) } }
            }
            if (step + 1) % 50 == 0 || step + 1 == steps {
                let last = hits.suffix(50)
                let acc = Double(last.reduce(0, +)) / Double(last.count * batch)
                print("{\"step\":\(step + 1),\"loss\":\(loss.value.scalars[0]),\"train_acc_last50\":\(acc)}")
            }
        }
        func val(_ c: WorldDataConfig) throws -> Double {
            vit.train(false)
            var ok = 0
            for s in 0..<2 {
                let b = try WorldData.batch(seed: seed &+ 100, step: s, size: 64, config: c)
                ok += zip(Gates.predictions(withNoGrad { vit.logits(Variable(b.images)).value }), b.labels).filter { $0 == Int($1) }.count
            }
            return Double(ok) / 128
        }
        let v = { (clean: Double, pose: Bool) in WorldDataConfig(resolution: 32, split: .validation, subjectsPerCategory: 8,
                                                                  cleanFraction: clean, randomPose: pose) }
        print("{\"val_clean_canonical\":\(try val(v(1, false))),\"val_clean_posed\":\(try val(v(1, true))),"
              + "\"val_gate\":\(try Gates.vitTop1(vit, resolution: 32, seed: seed &+ 1))}")
    }
}

VitProbe.main()
