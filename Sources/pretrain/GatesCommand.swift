import ArgumentParser
import Foundation
import Generation
import Imaging
import Models
import TensorCore

/// `pretrain gates`: re-measures the U-Net and adapter gates on the files of a checkpoint directory
/// (data/checkpoints layout) with its `vit`, and writes the metrics into `unet.json` / `adapter.json`
/// (the weights and their SHA-256 are untouched) and the sheets into `--docs`. Same seeds as the
/// stages, so on the same files it reproduces the stages' numbers.
struct GatesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "gates",
                                                    abstract: "Re-measure the U-Net and adapter quality gates on a checkpoint directory.")

    @Option(help: "Checkpoint directory (clip, unet, adapter, vit .safetensors + .json).") var checkpoints = "data/checkpoints"
    @Option(help: "Where the sample sheets go.") var docs = "docs"
    @Option(help: "DDIM steps of the gate samples.") var steps = 20
    @Option(help: "CFG scale of the gate samples.") var guidance: Float = 5
    @Option(help: "Test subjects in the adapter gate.") var subjects = 8
    @Option(help: "Worker threads.") var threads = 2

    func run() throws {
        Threads.configure(count: threads)
        let dir = URL(fileURLWithPath: checkpoints)
        func rec(_ n: String) throws -> (URL, PretrainRecord) {
            (dir.appendingPathComponent("\(n).safetensors"), try PretrainRecord.read(dir.appendingPathComponent("\(n).json")))
        }
        do {
            let (cw, cr) = try rec("clip"), (uw, ur) = try rec("unet"), (aw, ar) = try rec("adapter"), (vw, vr) = try rec("vit")
            let clip = try Generator.loadCLIP(weights: cw, record: cr)
            let vit = try loadViT((vw, vr))
            let schedule = try Generator.noiseSchedule(record: ur, path: uw)
            let unet = try Generator.loadUNet(weights: uw, record: ur)
            let u = try GateRuns.unet(clip: clip, unet: unet, schedule: schedule, vit: vit, resolution: ur.resolution,
                                      steps: steps, guidance: guidance, stageSeed: ur.seed)
            try update(dir.appendingPathComponent("unet.json"), ur, u.metrics)
            try PNG.write(u.sheet, to: URL(fileURLWithPath: docs).appendingPathComponent("unet-samples.png").path)
            let resampler = try Generator.loadAdapter(weights: aw, record: ar, into: unet)
            let g = Generator(textEncoder: clip.textModel, imageEncoder: clip.visionModel, imageEncoderLayer: ar.imageEncoderLayer,
                              resampler: resampler, unet: unet, schedule: schedule, resolution: ar.resolution)
            let a = try GateRuns.adapter(g, clip: clip, vit: vit, subjects: subjects, steps: steps, guidance: guidance, stageSeed: ar.seed)
            try update(dir.appendingPathComponent("adapter.json"), ar, a.metrics)
            try PNG.write(a.sheet, to: URL(fileURLWithPath: docs).appendingPathComponent("adapter-samples.png").path)
            for (k, v) in (u.metrics.merging(a.metrics) { x, _ in x }).sorted(by: { $0.key < $1.key }) {
                print("{\"gate\":\"\(k)\",\"value\":\(v)}")
            }
        } catch {
            FileHandle.standardError.write(Data("pretrain gates: error: \(error)\n".utf8))
            throw ExitCode(65)
        }
    }

    func update(_ url: URL, _ record: PretrainRecord, _ metrics: [String: Double]) throws {
        var r = record
        r.metrics.merge(metrics) { _, new in new }
        r.training["gates_measured_with"] = "pretrain gates --steps \(steps) --guidance \(guidance) --subjects \(subjects)"
        try r.encoded().write(to: url, options: .atomic)
    }
}
