import Checkpoint
import Foundation
import Generation
import Manifest
import Pretrained

/// Everything the bench reads from upstream stages, loaded before the item loop so a missing or bad
/// artifact stops the stage (the reader's error naming the stage that should have produced it, or 65).
public final class BenchInputs {
    /// Upstream stages whose outputs enter the fingerprint.
    public static let stages = ["pretrain-clip", "pretrain-unet", "pretrain-adapter", "dpo-train", "ssl-finetune-vit", "patch-quality",
                                "pretrain-judge"]

    public let upstream: any UpstreamReading
    /// The base personalized generator (pretrain-adapter's adapter).
    public let base: Generator
    /// A second U-Net + resampler into which each dpo-train adapter is loaded in turn.
    public let trained: Generator
    /// JeDi's generator (pretrain-jedi) when the bench evaluates it (`BenchSettings.jedi`).
    public let jedi: Generator?
    /// A second JeDi U-Net (with `jedi`'s text encoder) into which each dpo-train JeDi model's weights are loaded in turn.
    public let trainedJeDi: Generator?
    public let models: [BenchModel]
    public let judges: BenchJudges
    var currentAdapter: String?
    /// `trained`'s U-Net and resampler, into which each dpo-train adapter is loaded (nil: the copy has no resampler).
    let slot: AdapterSlot?

    /// `base` and `copy`: two loads of the personalized generator; the copy's U-Net and resampler take the
    /// adapters (it shares the base's text and reference encoders: dpo-train never changes them). The models:
    /// `settings.models`, with the real renders when `settings.realRenders` on the world, and `jedi` (required when
    /// `settings.jedi`) as the row `jedi`; `jediCopy` loads JeDi a second time, called only when dpo-train trained models
    /// from JeDi (they take its U-Net, and need the row `jedi` to be compared with).
    public init(base: Generator, copy: Generator, jedi: Generator? = nil, jediCopy: (() throws -> Generator)? = nil,
                upstream: any UpstreamReading, settings: BenchSettings) throws {
        precondition(settings.jedi == (jedi != nil), "BenchInputs: settings.jedi is \(settings.jedi) but a JeDi generator is \(jedi == nil ? "absent" : "given")")
        self.upstream = upstream
        self.base = base
        self.jedi = jedi
        // With the copy's adapter training: a trained model samples with the reference read as the base adapter was trained to
        // (the clean reference, `referenceTimestep` 0, since rt3), as the original row does.
        trained = base.withNetworks(of: copy)
        slot = copy.resampler.map { AdapterSlot(unet: copy.unet, resampler: $0) }
        models = try BenchInputs.models(upstream, wanted: settings.models, realRenders: settings.realRenders && settings.dreambenchDir.isEmpty,
                                        jedi: settings.jedi)
        if let m = models.first(where: { $0.base == "jedi" }), jedi == nil || jediCopy == nil {
            throw BenchError.badConfig(key: "bench.jedi", reason: "dpo-train model \(m.name) was trained from JeDi, which the bench evaluates only with jedi = true",
                                       hint: "set jedi = true (its row is what JeDi-trained models are compared with), or leave them out with bench.models")
        }
        if let j = jedi, let load = jediCopy, models.contains(where: { $0.base == "jedi" }) {
            trainedJeDi = Generator(textEncoder: j.textEncoder, imageEncoder: nil, resampler: nil, unet: try load().unet, vae: nil,
                                    schedule: j.schedule, tokenizer: j.tokenizer, resolution: j.resolution)
        } else {
            trainedJeDi = nil
        }
        let name = try upstream.artifact("judge.safetensors", of: "pretrain-judge").relativePath
        let w = try upstream.file("judge.safetensors", of: "pretrain-judge"), j = try upstream.file("judge.json", of: "pretrain-judge")
        judges = try BenchJudges.load(weights: w, record: j, name: name)
    }

    /// The base model, the real renders and JeDi when asked for, and every dpo-train model (kind `checkpoint/adapter`, or
    /// `checkpoint/jedi` for JeDi's, by name) with its record, those matching `wanted` when it is not empty.
    public static func models(_ upstream: any UpstreamReading, wanted: [String], realRenders: Bool, jedi: Bool = false) throws -> [BenchModel] {
        var all: [BenchModel] = []
        for a in try upstream.outputs("dpo-train") where a.kind == "checkpoint/adapter" || a.kind == "checkpoint/jedi" {
            let recPath = String(a.relativePath.dropLast(".safetensors".count)) + ".json"
            let rec = try upstream.artifact(at: recPath, of: "dpo-train",
                                            hint: "dpo-train should have written a record next to \(a.relativePath); rerun it")
            let info = try AdapterRecordInfo.decode(try upstream.data(rec, of: "dpo-train"), path: recPath)
            all.append(info.model(adapter: a.relativePath))
        }
        all.sort { $0.name < $1.name }
        let real: [BenchModel] = (realRenders ? [RealRenders.model] : []) + (jedi ? [JeDiBench.model] : [])
        guard !wanted.isEmpty else { return [.base] + real + all }
        for w in wanted where !all.contains(where: { matches($0, w) }) {
            throw BenchError.badConfig(key: "bench.models", reason: "no dpo-train model matches `\(w)`",
                                       hint: "use one of: \(all.map(\.name).joined(separator: ", ")) (or their losses)")
        }
        return [.base] + real + all.filter { m in wanted.contains { matches(m, $0) } }
    }

    /// Whether `m` is the model `w` names (its name, slug or loss).
    public static func matches(_ m: BenchModel, _ w: String) -> Bool { m.name == w || m.slug == w || m.loss == w }

    /// The generator of `model`: the base one, `trained` with the model's adapter loaded, or `trainedJeDi` with a
    /// JeDi-trained model's weights.
    public func generator(for model: BenchModel) throws -> Generator {
        precondition(model != RealRenders.model, "BenchInputs.generator: real-renders has no generator")
        if model == JeDiBench.model {
            guard let jedi else { preconditionFailure("BenchInputs.generator: the jedi row without a JeDi generator") }
            return jedi
        }
        guard let path = model.adapter else { return base }
        let isJeDi = model.base == "jedi"
        guard !isJeDi || trainedJeDi != nil else { preconditionFailure("BenchInputs.generator: a JeDi-trained model without jediCopy") }
        if currentAdapter != path {
            let a = try upstream.artifact(at: path, of: "dpo-train", hint: "stage dpo-train should have produced it; rerun it")
            let url = upstream.url(a)
            let file = try SafeTensors.parse(try upstream.data(a, of: "dpo-train"), path: url.path)
            if isJeDi {
                try JeDiBench.apply(file, path: url.path, to: trainedJeDi!.unet)
            } else {
                guard let slot else { preconditionFailure("BenchInputs.generator: an adapter model without a resampler to load it into") }
                try slot.load(file, path: url.path)
            }
            currentAdapter = path
        }
        return isJeDi ? trainedJeDi! : trained
    }
}
