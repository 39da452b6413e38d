import Bench
import Checkpoint
import Foundation
import Generation
import Imaging
import Manifest
import Models
import NN
import PoolStages
import Report
import StageKit

/// Everything the bench reads from upstream stages, loaded before the item loop so a missing or bad
/// artifact stops the stage (exit 66 naming the stage that should have produced it, or 65).
final class BenchInputs {
    let runner: StageRunner
    let up: UpstreamModels
    /// The base personalized generator (pretrain-adapter's adapter).
    let base: Generator
    /// The text-only model (same U-Net, no image tokens): DCO reward guidance's reference.
    /// A second U-Net + resampler into which each dpo-train adapter is loaded in turn.
    let trained: Generator
    let models: [BenchModel]
    let judges: BenchJudges
    var currentAdapter: String?

    /// Upstream stages whose outputs enter the fingerprint.
    static let stages = ["pretrain-clip", "pretrain-unet", "pretrain-adapter", "dpo-train", "ssl-finetune-vit", "patch-quality",
                         "pretrain-judge"]

    init(runner r: StageRunner) throws {
        runner = r
        up = UpstreamModels(runner: r)
        base = try up.generator()
        let (uw, ur) = try up.record("unet", of: "pretrain-unet")
        let (aw, ar) = try up.record("adapter", of: "pretrain-adapter")
        let unet2 = try Generator.loadUNet(weights: uw, record: ur)
        // The second copy shares the base's reference encoder (dpo-train never changes it).
        let (cw, cr) = try up.record("clip", of: "pretrain-clip")
        let clip2 = try Generator.loadCLIP(weights: cw, record: cr)
        let res2 = try Generator.loadAdapter(weights: aw, record: ar, into: unet2, clip: clip2).resampler
        trained = Generator(textEncoder: base.textEncoder, imageEncoder: base.imageEncoder, resampler: res2, unet: unet2,
                            vae: base.vae, schedule: base.schedule, resolution: base.resolution)
        models = try BenchInputs.models(r)
        judges = try BenchInputs.judges(r, up)
    }

    /// Every dpo-train adapter (kind `checkpoint/adapter`) with its record, filtered by `models`.
    static func models(_ r: StageRunner) throws -> [BenchModel] {
        let outs = try r.upstreamOutputs("dpo-train")
        var all: [BenchModel] = []
        for a in outs where a.kind == "checkpoint/adapter" {
            let recPath = String(a.relativePath.dropLast(".safetensors".count)) + ".json"
            guard let rec = outs.first(where: { $0.relativePath == recPath }) else {
                throw StageError.missingFile(path: r.layout.root.appendingPathComponent(recPath).path,
                                             hint: "dpo-train should have written a record next to \(a.relativePath); rerun it")
            }
            let info = try AdapterRecordInfo.decode(try r.readVerified(rec, upstream: "dpo-train"), path: recPath)
            all.append(info.model(adapter: a.relativePath))
        }
        all.sort { $0.name < $1.name }
        let wanted = r.config.strings("models")
        let real: [BenchModel] = r.config.bool("real_renders") && r.config.string("dreambench_dir").isEmpty ? [RealRenders.model] : []
        guard !wanted.isEmpty else { return [.base] + real + all }
        for w in wanted where !all.contains(where: { matches($0, w) }) {
            throw BenchError.badConfig(key: "bench.models", reason: "no dpo-train model matches `\(w)`",
                                       hint: "use one of: \(all.map(\.name).joined(separator: ", ")) (or their losses)")
        }
        return [.base] + real + all.filter { m in wanted.contains { matches(m, $0) } }
    }

    static func matches(_ m: BenchModel, _ w: String) -> Bool { m.name == w || m.slug == w || m.loss == w }

    static func judges(_ r: StageRunner, _ up: UpstreamModels) throws -> BenchJudges {
        let w = try up.file("judge.safetensors", of: "pretrain-judge"), j = try up.file("judge.json", of: "pretrain-judge")
        return try BenchJudges.load(weights: w, record: j, name: r.layout.relative(w))
    }

    /// The generator of `model`: the base one, or `trained` with the model's adapter loaded.
    func generator(for model: BenchModel) throws -> Generator {
        precondition(model != RealRenders.model, "BenchInputs.generator: real-renders has no generator")
        guard let path = model.adapter else { return base }
        if currentAdapter != path {
            let url = runner.layout.root.appendingPathComponent(path)
            let data = try readUpstream(path, stage: "dpo-train")
            try Generator.applyAdapter(try SafeTensors.parse(data, path: url.path), path: url.path, unet: trained.unet,
                                       resampler: trained.resampler!)
            currentAdapter = path
        }
        return trained
    }

    /// Verified bytes of an upstream artifact by run-relative path.
    func readUpstream(_ relativePath: String, stage: String) throws -> Data {
        guard let a = try runner.upstreamOutputs(stage).first(where: { $0.relativePath == relativePath }) else {
            throw StageError.missingFile(path: runner.layout.root.appendingPathComponent(relativePath).path,
                                         hint: "stage \(stage) should have produced it; rerun it")
        }
        return try runner.readVerified(a, upstream: stage)
    }
}
