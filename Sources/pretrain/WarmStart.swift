import Checkpoint
import Foundation
import Manifest
import Models
import NN
import Pretrained
import StageKit
import Training

/// Warm starts (`init_from`): a finished model's weights as the starting point of a new training, after
/// checking that the record beside them (`<name>.json`) describes a compatible model and names these
/// weights. A bad file is a data error (exit 65) naming it.
enum WarmStart {
    /// The verified record and weights of `weights` (its `.json` beside it), or a data error.
    static func read(_ weights: URL, stage: String, what: String) throws -> (record: PretrainRecord, file: SafeTensorsFile, sha: String) {
        let recordURL = weights.deletingPathExtension().appendingPathExtension("json")
        let record: PretrainRecord
        do { record = try PretrainRecord.read(recordURL) } catch { throw bad(recordURL.path, "\(error)", stage: stage, what: what) }
        guard let data = FileManager.default.contents(atPath: weights.path) else {
            throw bad(weights.path, "missing or unreadable", stage: stage, what: what)
        }
        let sha = SHA256.hex(data)
        guard record.weightsSHA256.isEmpty || record.weightsSHA256 == sha else {
            throw bad(weights.path, "SHA-256 differs from its record (edited or truncated)", stage: stage, what: what)
        }
        return (record, try SafeTensors.parse(data, path: weights.path), sha)
    }

    static func bad(_ path: String, _ why: String, stage: String, what: String) -> StageError {
        .inputUnverified(stage: stage, upstream: "init_from", problem: "\(path): \(why); hint: point init_from at a \(what).safetensors "
                         + "written by `pretrain` with the same model keys, its \(what).json beside it")
    }

    /// The SHA-256 of the weights a warm start from `path` reads (a finished weights file, or a checkpoint
    /// directory's EMA file when it has one, else its raw weights, as `checkpoint` reads them); nil for an empty
    /// path or an unreadable source, which the warm start itself then reports.
    static func sourceHash(_ path: String) -> String? {
        guard !path.isEmpty else { return nil }
        var url = URL(fileURLWithPath: path)
        if isDirectory(url) {
            let ema = url.appendingPathComponent("ema.safetensors")
            url = FileManager.default.fileExists(atPath: ema.path) ? ema : url.appendingPathComponent("model.safetensors")
        }
        return try? SHA256.hexOfFile(url)
    }

    /// Whether `source` is a directory (a training checkpoint) rather than a finished weights file.
    static func isDirectory(_ source: URL) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: source.path, isDirectory: &isDir) && isDir.boolValue
    }

    /// The weights of a training checkpoint directory (`checkpoints/step-N` of a pretrain stage): its EMA
    /// file when it kept one, else the raw weights, with each tensor given back the shape `shapes` names
    /// (a checkpoint's EMA file stores each parameter flat; same element count). Returns the file, the
    /// SHA-256 of its bytes and its URL.
    static func checkpoint(_ dir: URL, shapes: [String: [Int]], stage: String, what: String) throws
        -> (file: SafeTensorsFile, sha: String, url: URL) {
        let fm = FileManager.default
        guard fm.fileExists(atPath: dir.appendingPathComponent("index.json").path) else {
            throw bad(dir.path, "a directory without index.json is not a training checkpoint", stage: stage, what: what)
        }
        let ema = dir.appendingPathComponent("ema.safetensors")
        let url = fm.fileExists(atPath: ema.path) ? ema : dir.appendingPathComponent("model.safetensors")
        guard let data = fm.contents(atPath: url.path) else { throw bad(url.path, "missing or unreadable", stage: stage, what: what) }
        var file = try SafeTensors.parse(data, path: url.path)
        for (k, v) in file.tensors {
            if let s = shapes[k], s.reduce(1, *) == v.values.count { file.tensors[k] = TensorData(shape: s, values: v.values) }
        }
        return (file, SHA256.hex(data), url)
    }

    /// A U-Net warm start from `source`: a finished `unet.safetensors` (its record beside it) or a
    /// training checkpoint directory of pretrain-unet (`checkpoints/step-N`, its EMA weights when it kept
    /// an EMA, else the raw ones), so a long run can be continued under a new schedule. A source with its
    /// own tuned text tower (the record's `textEncoderFile`, or `text_model.*` keys in a checkpoint) loads it
    /// into `text`, which must then be given (this run trains the text tower too, and writes it).
    /// A finished U-Net's config must equal `unet`'s except that `unet` may add the pooled-text class
    /// embedding: its `linear_2` then starts at zero, so the network starts as exactly the finished one
    /// (the new input is faded in by training, as ControlNet's zero convolutions). Returns the SHA-256 of
    /// the weights file read.
    static func unet(_ unet: UNet2DConditionModel, text: TextEncoder?, from source: URL, stage: String) throws -> String {
        if isDirectory(source) { return try unetCheckpoint(unet, text: text, from: source, stage: stage) }
        let (record, file, sha) = try read(source, stage: stage, what: "unet")
        if let name = record.textEncoderFile {
            let url = source.deletingLastPathComponent().appendingPathComponent(name)
            let text = try tunedTower(text, at: url, stage: stage)
            do { try PretrainedModels.loadTextEncoder(into: text, unetWeights: source, unetRecord: record) } catch {
                throw bad(url.path, "\(error)", stage: stage, what: "unet")
            }
        }
        var want = unet.config
        let adds = want.classEmbedInputDim != nil && record.unet?.classEmbedInputDim == nil
        if adds { want.classEmbedInputDim = nil }
        guard record.unet == want else {
            throw bad(source.deletingPathExtension().appendingPathExtension("json").path, "its U-Net config \(record.unet.map { "\($0.blockOutChannels)" } ?? "(none)") differs from this stage's "
                      + "(channels, layers, heads, widths); only a class embedding may be added", stage: stage, what: "unet")
        }
        var f = file
        if adds, let ce = unet.classEmbedding {
            for (k, p) in ce.namedParameters() {
                let zero = k.hasPrefix("linear_2.")
                f.tensors["class_embedding." + k] = TensorData(shape: p.shape, values: zero ? [Float](repeating: 0, count: p.value.count) : p.value.scalars)
            }
        }
        try unet.loadStrict(f, path: source.path)
        return sha
    }

    /// The text tower a source with its own tuned tower (at `path`) loads into: `text`, which this run must
    /// train (and so write); nil is a data error naming the key to set.
    static func tunedTower(_ text: TextEncoder?, at path: URL, stage: String) throws -> TextEncoder {
        guard let text else {
            throw bad(path.path, "the warm start has its own tuned text tower; set train_text_encoder = true so this run keeps and writes it",
                      stage: stage, what: "unet")
        }
        return text
    }

    /// `unet`'s warm start from a pretrain-unet training checkpoint directory (see `unet(_:text:from:stage:)`):
    /// the same U-Net config exactly (checked by every key's name and shape).
    static func unetCheckpoint(_ unet: UNet2DConditionModel, text: TextEncoder?, from dir: URL, stage: String) throws -> String {
        var shapes = unet.parameterShapes()
        for (k, s) in text?.parameterShapes() ?? [:] { shapes[TextEncoder.standalonePrefix + k] = s }
        let (file, sha, url) = try checkpoint(dir, shapes: shapes, stage: stage, what: "unet")
        var own = SafeTensorsFile(), tower = SafeTensorsFile()
        for (k, t) in file.tensors {
            if k.hasPrefix(TextEncoder.standalonePrefix) { tower.tensors[k] = t } else { own.tensors[k] = t }
        }
        if !tower.tensors.isEmpty { try tunedTower(text, at: url, stage: stage).loadStrict(standalone: tower, path: url.path) }
        // The base U-Net does not train its image branch (`to_k_ip`/`to_v_ip`), so a checkpoint lacks it: keep this init's.
        PretrainedModels.completeImageBranch(&own, of: unet)
        try unet.loadStrict(own, path: url.path)
        return sha
    }

    /// An adapter warm start from `source`: a finished `adapter.safetensors` (its record beside it) or a
    /// pretrain-adapter training checkpoint directory (its EMA weights when it kept one). The resampler and
    /// reference-encoder configs must equal this stage's. A source trained with its U-Net (every U-Net key
    /// present) loads that U-Net too. Returns the SHA-256 of the file read and whether it held the U-Net.
    static func adapter(unet: UNet2DConditionModel, resampler: Resampler, encoder: ConvReferenceEncoder?, from source: URL,
                        stage: String) throws -> (sha: String, tunesUNet: Bool) {
        var file: SafeTensorsFile, sha: String, path = source.path
        if isDirectory(source) {
            var shapes = unet.parameterShapes()
            for (k, s) in resampler.parameterShapes() { shapes["image_proj." + k] = s }
            for (k, s) in encoder?.parameterShapes() ?? [:] { shapes["image_encoder." + k] = s }
            let c = try checkpoint(source, shapes: shapes, stage: stage, what: "adapter")
            (file, sha, path) = (c.file, c.sha, c.url.path)
        } else {
            let (record, f, h) = try read(source, stage: stage, what: "adapter")
            let json = source.deletingPathExtension().appendingPathExtension("json").path
            guard record.resampler == resampler.config else {
                throw bad(json, "its resampler config differs from this stage's (queries, dim, depth, heads)", stage: stage, what: "adapter")
            }
            guard record.referenceEncoder == encoder?.config else {
                throw bad(json, "its reference encoder differs from this stage's (image_encoder, encoder_widths)", stage: stage, what: "adapter")
            }
            file = f; sha = h
        }
        // Training aids of the source run are not part of an adapter.
        for k in file.tensors.keys where k.hasPrefix(ReferenceAttributeHeads.prefix) { file.tensors.removeValue(forKey: k) }
        let ip = Set(unet.imageProjectionParameters().map(\.0))
        let tunes = unet.namedParameters().contains { !ip.contains($0.0) && file.tensors[$0.0] != nil }
        // A source without full-resolution cross-attention starts a grown U-Net's new blocks where growing left them.
        // A source with fewer layers per block starts a deeper U-Net the same way (its blocks shifted, the new ones the identity).
        if tunes {
            PretrainedModels.completeFullResolutionCrossAttention(&file, of: unet)
            if let old = PretrainedModels.layersPerBlock(inFile: file), old < unet.config.layersPerBlock {
                PretrainedModels.deepen(&file, from: old, into: unet)
            }
        }
        do { try PretrainedModels.applyAdapter(file, path: path, unet: unet, resampler: resampler, encoder: encoder, withUNet: tunes) } catch {
            throw bad(path, "\(error)", stage: stage, what: "adapter")
        }
        return (sha, tunes)
    }

    /// A judge warm start: the record's judge config must equal `judge`'s.
    static func judge(_ judge: WorldJudge, from weights: URL, stage: String) throws -> String {
        let (record, file, sha) = try read(weights, stage: stage, what: "judge")
        guard record.judge == judge.config else {
            throw bad(weights.deletingPathExtension().appendingPathExtension("json").path, "its judge config differs from [pretrain-judge]'s (widths, blocks, groups, heads, embedding widths, text tower)",
                      stage: stage, what: "judge")
        }
        try judge.loadStrict(file, path: weights.path)
        return sha
    }
}
