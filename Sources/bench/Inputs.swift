import Bench
import Checkpoint
import Foundation
import Generation
import Imaging
import Manifest
import Report
import StageKit
import Upstream

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
        // A second U-Net and resampler; it shares the base's text and reference encoders (dpo-train never changes them).
        let copy = try up.generator()
        trained = Generator(textEncoder: base.textEncoder, imageEncoder: base.imageEncoder, resampler: copy.resampler, unet: copy.unet,
                            vae: base.vae, schedule: base.schedule, tokenizer: base.tokenizer, resolution: base.resolution)
        models = try BenchInputs.models(r, up.artifacts)
        judges = try BenchInputs.judges(r, up.artifacts)
    }

    /// Every dpo-train adapter (kind `checkpoint/adapter`) with its record, filtered by `models`.
    static func models(_ r: StageRunner, _ up: UpstreamArtifacts) throws -> [BenchModel] {
        let outs = try up.outputs("dpo-train")
        var all: [BenchModel] = []
        for a in outs where a.kind == "checkpoint/adapter" {
            let recPath = String(a.relativePath.dropLast(".safetensors".count)) + ".json"
            guard let rec = outs.first(where: { $0.relativePath == recPath }) else {
                throw StageError.missingFile(path: r.layout.root.appendingPathComponent(recPath).path,
                                             hint: "dpo-train should have written a record next to \(a.relativePath); rerun it")
            }
            let info = try AdapterRecordInfo.decode(try up.data(rec, of: "dpo-train"), path: recPath)
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

    static func judges(_ r: StageRunner, _ up: UpstreamArtifacts) throws -> BenchJudges {
        let w = try up.file("judge.safetensors", of: "pretrain-judge"), j = try up.file("judge.json", of: "pretrain-judge")
        return try BenchJudges.load(weights: w, record: j, name: r.layout.relative(w))
    }

    /// The generator of `model`: the base one, or `trained` with the model's adapter loaded.
    func generator(for model: BenchModel) throws -> Generator {
        precondition(model != RealRenders.model, "BenchInputs.generator: real-renders has no generator")
        guard let path = model.adapter else { return base }
        if currentAdapter != path {
            let url = runner.layout.root.appendingPathComponent(path)
            guard let a = try up.artifacts.outputs("dpo-train").first(where: { $0.relativePath == path }) else {
                throw StageError.missingFile(path: url.path, hint: "stage dpo-train should have produced it; rerun it")
            }
            let data = try up.artifacts.data(a, of: "dpo-train")
            try Generator.applyAdapter(try SafeTensors.parse(data, path: url.path), path: url.path, unet: trained.unet,
                                       resampler: trained.resampler!)
            currentAdapter = path
        }
        return trained
    }
}
