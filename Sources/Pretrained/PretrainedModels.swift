import Autograd
import Checkpoint
import Diffusion
import Foundation
import Manifest
import Models
import NN
import Random
import TensorCore

/// The models of pretraining checkpoints (data/checkpoints/ or a run's pretrain outputs), each built from the
/// configs of its `PretrainRecord` and loaded strictly (no key missing, none extra, every shape equal) from a
/// weights file checked against the record's SHA-256. Generation's `Generator.load(directory:)` assembles a
/// generator from them; Upstream's `UpstreamModels` reads them from a run's manifest.
///
/// Files (see `PretrainRecord`): `clip.safetensors` holds the whole CLIP pair under HF `CLIPModel`
/// keys (`text_model.*` = the generator's text encoder, `vision_model.*` = its image encoder,
/// projections, `logit_scale`); `unet.safetensors` the U-Net (diffusers keys; its `to_k_ip`/`to_v_ip`
/// are untrained in the base model); `adapter.safetensors` the resampler as `image_proj.*` plus every
/// `...attn2.to_k_ip.weight` / `...attn2.to_v_ip.weight` (IP-Adapter naming), and `image_encoder.*`
/// when the adapter trained its own convolutional reference encoder; a latent U-Net's record
/// names its autoencoder (`vae`), loaded from `vae.safetensors` + `vae.json` beside it.
public enum PretrainedModels {
    /// The CLIP pair of a record + weights file (weights checked against the record's SHA-256).
    public static func loadCLIP(weights: URL, record: PretrainRecord) throws(PretrainedError) -> CLIPModel {
        try loadModel(record.clip, field: "clip", weights: weights, record: record) { try CLIPModel(config: $0, key: RNGKey(seed: 0)) }
    }

    /// The U-Net of a record + weights file. A base U-Net file may hold no image branch at all (none of its
    /// untrained `to_k_ip`/`to_v_ip`: an adapter sets them); those keep this build's initial values. A file
    /// holding some of them but not all is refused like any other missing key.
    public static func loadUNet(weights: URL, record: PretrainRecord) throws(PretrainedError) -> UNet2DConditionModel {
        try loadModel(record.unet, field: "unet", weights: weights, record: record,
                      build: { try UNet2DConditionModel(config: $0, key: RNGKey(seed: 0)) },
                      complete: { unet, file in completeImageBranch(&file, of: unet) })
    }

    /// Gives a base U-Net file with no image branch at all (none of `to_k_ip`/`to_v_ip`: the base model
    /// does not train it) `unet`'s current values for it; a file with any of them is left as it is, so a
    /// partial branch fails strict loading.
    public static func completeImageBranch(_ file: inout SafeTensorsFile, of unet: UNet2DConditionModel) {
        let ip = unet.imageProjectionParameters()
        guard !ip.contains(where: { file.tensors[$0.0] != nil }) else { return }
        for (k, p) in ip { file.tensors[k] = TensorData(shape: p.shape, values: p.value.scalars) }
    }

    /// The ViT of a `pretrain-vit` record + weights file (its `head.*` included when the record has classes).
    public static func loadViT(weights: URL, record: PretrainRecord) throws(PretrainedError) -> ViT {
        try loadModel(record.vit, field: "vit", weights: weights, record: record) { try ViT(config: $0, key: RNGKey(seed: 0)) }
    }

    /// The text encoder a U-Net was trained with: its own tuned tower when its record names one
    /// (`textEncoderFile` beside `unetWeights`, checked against `textEncoderSHA256`, keys `text_model.*`
    /// strictly), else CLIP's `text_model`. A separate instance, so CLIP itself stays as pretrain-clip made it.
    public static func loadTextEncoder(clip: CLIPModel, unetWeights: URL, unetRecord: PretrainRecord) throws(PretrainedError) -> TextEncoder {
        guard unetRecord.textEncoderFile != nil else { return clip.textModel }
        let m: TextEncoder
        do { m = try TextEncoder(config: clip.config.text, key: RNGKey(seed: 0)) } catch {
            throw .badCheckpoint(path: unetWeights.path, reason: "\(error)")
        }
        try loadTextEncoder(into: m, unetWeights: unetWeights, unetRecord: unetRecord)
        return m
    }

    /// Loads the U-Net's own text tower (the record's `textEncoderFile` beside `unetWeights`, SHA-256
    /// checked) into `encoder`, strictly by name and shape; nothing when the record names none.
    public static func loadTextEncoder(into encoder: TextEncoder, unetWeights: URL, unetRecord: PretrainRecord) throws(PretrainedError) {
        guard let name = unetRecord.textEncoderFile else { return }
        let url = unetWeights.deletingLastPathComponent().appendingPathComponent(name)
        guard let sha = unetRecord.textEncoderSHA256, !sha.isEmpty else {
            throw .badCheckpoint(path: url.path, reason: "the U-Net record names this text encoder but not its `textEncoderSHA256`")
        }
        let file = try readChecked(url, sha256: sha)
        do { try encoder.loadStrict(standalone: file, path: url.path) } catch {
            throw .badCheckpoint(path: url.path, reason: "\(error) (it must be a text tower of the CLIP record's text config)")
        }
    }

    /// The autoencoder of a `pretrain-vae` record + weights file.
    public static func loadVAE(weights: URL, record: PretrainRecord) throws(PretrainedError) -> AutoencoderKL {
        try loadModel(record.vae, field: "vae", weights: weights, record: record) { try AutoencoderKL(config: $0, key: RNGKey(seed: 0)) }
    }

    /// The foreground segmenter of a `pretrain-segmenter` record + weights file.
    public static func loadSegmenter(weights: URL, record: PretrainRecord) throws(PretrainedError) -> Segmenter {
        try loadModel(record.segmenter, field: "segmenter", weights: weights, record: record) { try Segmenter(config: $0, key: RNGKey(seed: 0)) }
    }

    /// The autoencoder of a `pretrain-vae` record + weights file, which must be the one `unetRecord` was
    /// trained with (config and scaling factor); nil for a pixel-space U-Net (its record names no `vae`).
    public static func loadVAE(weights: URL, record: PretrainRecord, for unetRecord: PretrainRecord) throws(PretrainedError) -> AutoencoderKL? {
        guard let want = unetRecord.vae else { return nil }
        guard record.vae == want else {
            throw .badCheckpoint(path: weights.path, reason: "its autoencoder differs from the one the U-Net was trained with (config or scaling factor)")
        }
        return try loadVAE(weights: weights, record: record)
    }

    /// A model built from the record's config (`field`) and loaded strictly from its verified weights
    /// (after `complete` adds what the file may legitimately lack).
    static func loadModel<Config, M: Module>(_ config: Config?, field: String, weights: URL, record: PretrainRecord,
                                             build: (Config) throws -> M,
                                             complete: (M, inout SafeTensorsFile) -> Void = { _, _ in }) throws(PretrainedError) -> M {
        guard let config else { throw .badCheckpoint(path: weights.path, reason: "record has no `\(field)` config") }
        var file = try readChecked(weights, record: record)
        do {
            let m = try build(config)
            complete(m, &file)
            try m.loadStrict(file, path: weights.path)
            return m
        } catch { throw .badCheckpoint(path: weights.path, reason: "\(error)") }
    }

    /// The autoencoder a latent U-Net was trained with: `vae.safetensors` + `vae.json` in `directory`;
    /// nil for a pixel-space U-Net.
    public static func latentAutoencoder(for unetRecord: PretrainRecord, directory: URL) throws(PretrainedError) -> AutoencoderKL? {
        guard unetRecord.vae != nil else { return nil }
        return try loadVAE(weights: directory.appendingPathComponent("vae.safetensors"),
                           record: try PretrainRecord.read(directory.appendingPathComponent("vae.json")), for: unetRecord)
    }

    /// The DDPM schedule of a U-Net record (`noise`; the MODELS.md default when the record predates it),
    /// checked, so a bad record names its file instead of trapping in `NoiseSchedule`.
    public static func noiseSchedule(record: PretrainRecord, path: URL) throws(PretrainedError) -> NoiseSchedule {
        let noise = record.noise ?? NoiseConfig()
        if let problem = noise.problem {
            throw .badCheckpoint(path: path.path, reason: "record key `noise`: \(problem); rerun pretrain-unet")
        }
        return noise.schedule
    }

    /// Applies an adapter file to `base` (its `to_k_ip`/`to_v_ip`, or every weight when the adapter tuned the
    /// U-Net) and returns the reference encoder, the resampler and the U-Net to run: `base` itself, or a grown
    /// copy when the adapter's U-Net has full-resolution cross-attention (`unet(_:forAdapter:path:)`). The encoder is
    /// the adapter's own convolutional tower when the record names one (`referenceEncoder`, weights under
    /// `image_encoder.*` in the same file), else CLIP's vision tower read at block `imageEncoderLayer`
    /// (default: the penultimate).
    public static func loadAdapter(weights: URL, record: PretrainRecord, into base: UNet2DConditionModel, clip: CLIPModel)
        throws(PretrainedError) -> (encoder: any ReferenceEncoder, resampler: Resampler, unet: UNet2DConditionModel) {
        guard let cfg = record.resampler else { throw .badCheckpoint(path: weights.path, reason: "record has no `resampler` config") }
        let file = try readChecked(weights, record: record)
        let unet = try self.unet(base, forAdapter: record, path: weights)
        do {
            let r = try Resampler(config: cfg, key: RNGKey(seed: 0))
            let encoder: any ReferenceEncoder
            var conv: ConvReferenceEncoder? = nil
            if let rc = record.referenceEncoder {
                conv = try ConvReferenceEncoder(config: rc, key: RNGKey(seed: 0))
                encoder = conv!
            } else {
                let depth = clip.config.vision.depth
                let layer = record.imageEncoderLayer ?? max(1, depth - 1)
                guard (1...depth).contains(layer) else {
                    throw PretrainedError.badCheckpoint(path: weights.path, reason: "record key `imageEncoderLayer` \(layer) is outside 1...\(depth) (the CLIP vision tower's blocks)")
                }
                encoder = ViTReferenceEncoder(vit: clip.visionModel, layer: layer)
            }
            guard cfg.embeddingDim == encoder.tokenWidth else {
                throw PretrainedError.badCheckpoint(path: weights.path, reason: "the resampler reads \(cfg.embeddingDim)-wide tokens but the reference encoder gives \(encoder.tokenWidth)")
            }
            try applyAdapter(file, path: weights.path, unet: unet, resampler: r, encoder: conv, withUNet: record.adapterTunesUNet ?? false)
            return (encoder, r, unet)
        } catch let e as PretrainedError { throw e } catch { throw .badCheckpoint(path: weights.path, reason: "\(error)") }
    }

    /// Loads `image_proj.*` into `resampler`, the ip projections into `unet` and, when given, `image_encoder.*`
    /// into the adapter's own reference encoder, strictly by name (no key missing, none extra). `withUNet`:
    /// the file holds every U-Net weight (an adapter trained with its U-Net, `adapterTunesUNet`), all loaded;
    /// otherwise `trainable` says which U-Net weights beyond the image branch it holds (a dpo-train file of
    /// `adapter_trainable = "image+attention"` also has every `...attn1.*`).
    public static func applyAdapter(_ file: SafeTensorsFile, path: String, unet: UNet2DConditionModel, resampler: Resampler,
                                    encoder: ConvReferenceEncoder? = nil, withUNet: Bool = false, trainable: AdapterTrainable = .image) throws {
        var expected: [String: [Int]] = [:]
        for (k, p) in resampler.namedParameters() { expected["image_proj.\(k)"] = p.shape }
        let ip = withUNet ? unet.namedParameters() : unet.imageProjectionParameters() + trainable.extraParameters(of: unet)
        for (k, p) in ip { expected[k] = p.shape }
        for (k, p) in encoder?.namedParameters() ?? [] { expected["image_encoder.\(k)"] = p.shape }
        try file.checkStrict(expected: expected, path: path)
        func sub(_ prefix: String) -> SafeTensorsFile {
            var f = SafeTensorsFile()
            for (k, v) in file.tensors where k.hasPrefix(prefix) { f.tensors[String(k.dropFirst(prefix.count))] = v }
            return f
        }
        try resampler.loadStrict(sub("image_proj."), path: path)
        try encoder?.loadStrict(sub("image_encoder."), path: path)
        for (k, p) in ip { p.value = Tensor(shape: p.shape, scalars: file.tensors[k]!.values) }
    }

    /// The adapter file of a resampler + U-Net (+ the adapter's own reference encoder), the inverse of `applyAdapter`;
    /// `withUNet`: every U-Net weight, not only the image branch's projections; otherwise `trainable`'s U-Net weights too.
    public static func adapterFile(unet: UNet2DConditionModel, resampler: Resampler, encoder: ConvReferenceEncoder? = nil,
                                   withUNet: Bool = false, trainable: AdapterTrainable = .image) -> SafeTensorsFile {
        var f = SafeTensorsFile()
        for (k, p) in resampler.namedParameters() { f.tensors["image_proj.\(k)"] = TensorData(shape: p.shape, values: p.value.scalars) }
        for (k, p) in withUNet ? unet.namedParameters() : unet.imageProjectionParameters() + trainable.extraParameters(of: unet) { f.tensors[k] = TensorData(shape: p.shape, values: p.value.scalars) }
        for (k, p) in encoder?.namedParameters() ?? [] { f.tensors["image_encoder.\(k)"] = TensorData(shape: p.shape, values: p.value.scalars) }
        return f
    }

    static func readChecked(_ url: URL, record: PretrainRecord) throws(PretrainedError) -> SafeTensorsFile {
        try readChecked(url, sha256: record.weightsSHA256)
    }

    /// The parsed file, after checking its SHA-256 against `sha256` ("" = unchecked).
    static func readChecked(_ url: URL, sha256: String) throws(PretrainedError) -> SafeTensorsFile {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw .missingCheckpoint(path: url.path)
        }
        let hash = SHA256.hex(data)
        guard sha256.isEmpty || hash == sha256 else {
            throw .badCheckpoint(path: url.path, reason: "sha256 \(hash.prefix(12))… differs from its record's \(sha256.prefix(12))…")
        }
        do { return try SafeTensors.parse(data, path: url.path) } catch { throw .badCheckpoint(path: url.path, reason: "\(error)") }
    }
}
