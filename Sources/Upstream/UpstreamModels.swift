import Foundation
import Generation
import Models
import PatchQuality
import Pretrained
import StageKit
import World

/// The pretrained models a stage builds from its upstream stages' outputs: each from a `PretrainRecord` and
/// its weights, both verified against the manifest (`UpstreamArtifacts`), by Pretrained's loaders (config from
/// the record, weights checked against its SHA-256 and loaded strictly by name and shape).
public struct UpstreamModels {
    public let artifacts: UpstreamArtifacts

    public init(runner: StageRunner) { artifacts = UpstreamArtifacts(runner: runner) }
    public init(artifacts: UpstreamArtifacts) { self.artifacts = artifacts }

    /// The personalized generator: CLIP (pretrain-clip), the U-Net and the text tower it was trained with
    /// (pretrain-unet), the adapter's resampler, image projections and reference encoder (pretrain-adapter),
    /// the autoencoder of a latent U-Net (pretrain-vae), the U-Net record's noise schedule, and the project
    /// tokenizer checked against the CLIP record's words.
    public func generator() throws -> Generator {
        let (cw, cr) = try artifacts.record("clip", of: "pretrain-clip")
        let (uw, ur) = try artifacts.record("unet", of: "pretrain-unet")
        let (aw, ar) = try artifacts.record("adapter", of: "pretrain-adapter")
        let tokenizer = try WorldText.tokenizer(for: cr, path: cw.deletingPathExtension().appendingPathExtension("json"))
        let clip = try PretrainedModels.loadCLIP(weights: cw, record: cr)
        let unet = try PretrainedModels.loadUNet(weights: uw, record: ur)
        let text = try textEncoder(clip: clip, unetWeights: uw, unetRecord: ur)
        let schedule = try PretrainedModels.noiseSchedule(record: ur, path: uw)
        let (encoder, resampler, tuned) = try PretrainedModels.loadAdapter(weights: aw, record: ar, into: unet, clip: clip)
        guard encoder.imageSize == ur.resolution else {
            throw PretrainedError.badCheckpoint(path: aw.path, reason: "its reference encoder reads \(encoder.imageSize) px images, "
                                                    + "the U-Net's record says resolution \(ur.resolution)")
        }
        return Generator(textEncoder: text, imageEncoder: encoder, resampler: resampler, unet: tuned, vae: try autoencoder(for: ur),
                         schedule: schedule, tokenizer: tokenizer, resolution: ur.resolution,
                         trainedReferenceAttention: try ReferenceAttention.trained(ar, path: aw), trainedReferenceTimestep: ar.referenceTimestep)
    }

    /// JeDi's generator (issue 17 item 5): pretrain-jedi's joint-image U-Net (`jedi.safetensors` + `jedi.json`) with
    /// CLIP and the text tower and noise schedule of pretrain-unet's base, which JeDi trained with (its record must name
    /// the same text tower by SHA-256, else it was trained from another base and is refused naming both files).
    public func jedi() throws -> Generator {
        let (cw, cr) = try artifacts.record("clip", of: "pretrain-clip")
        let (uw, ur) = try artifacts.record("unet", of: "pretrain-unet")
        let (jw, jr) = try artifacts.record("jedi", of: "pretrain-jedi")
        guard jr.textEncoderSHA256 == ur.textEncoderSHA256, let cfg = jr.unet, jr.vae == nil, JeDiUNet.readsInpaintingInput(cfg) else {
            throw PretrainedError.badCheckpoint(path: jw.path, reason: "not a pixel-space JeDi U-Net trained from the base in \(uw.path) (its record's "
                                                    + "`unet` must read 2 x out + 1 channels, name no `vae`, and name the base's text tower)")
        }
        let tokenizer = try WorldText.tokenizer(for: cr, path: cw.deletingPathExtension().appendingPathExtension("json"))
        let clip = try PretrainedModels.loadCLIP(weights: cw, record: cr)
        return Generator(textEncoder: try textEncoder(clip: clip, unetWeights: uw, unetRecord: ur), imageEncoder: nil, resampler: nil,
                         unet: try PretrainedModels.loadUNet(weights: jw, record: jr), vae: nil,
                         schedule: try PretrainedModels.noiseSchedule(record: jr, path: jw), tokenizer: tokenizer, resolution: jr.resolution)
    }

    /// The text encoder pretrain-unet's U-Net was trained with: its own tuned tower (a verified output of
    /// pretrain-unet) when the record names one, else CLIP's.
    public func textEncoder(clip: CLIPModel, unetWeights: URL, unetRecord: PretrainRecord) throws -> TextEncoder {
        if let name = unetRecord.textEncoderFile { _ = try artifacts.file(name, of: "pretrain-unet") }
        return try PretrainedModels.loadTextEncoder(clip: clip, unetWeights: unetWeights, unetRecord: unetRecord)
    }

    /// The autoencoder of a latent U-Net (pretrain-vae's, which must be the one its record names); nil in pixel space.
    public func autoencoder(for unetRecord: PretrainRecord) throws -> AutoencoderKL? {
        guard unetRecord.vae != nil else { return nil }
        let (vw, vr) = try artifacts.record("vae", of: "pretrain-vae")
        return try PretrainedModels.loadVAE(weights: vw, record: vr, for: unetRecord)
    }

    /// The CLIP pair of pretrain-clip.
    public func clip() throws -> CLIPModel {
        let (w, r) = try artifacts.record("clip", of: "pretrain-clip")
        return try PretrainedModels.loadCLIP(weights: w, record: r)
    }

    /// The foreground segmenter of pretrain-segmenter (`segmenter.safetensors` + `segmenter.json`, both verified;
    /// config from the record, weights checked against its SHA-256 and loaded strictly).
    public func segmenter() throws -> Segmenter {
        let (w, r) = try artifacts.record("segmenter", of: "pretrain-segmenter")
        return try PretrainedModels.loadSegmenter(weights: w, record: r)
    }

    /// The patch-feature ViT of pretrain-vit (`vit.safetensors`, its `head.*` included when trained with
    /// classes). Built from its record `vit.json` when that is a pretraining record with a `vit` config;
    /// a record of another shape (older runs, hand-made fixtures) leaves the sizes to the weights' shapes
    /// (`ViTLoading`) and the head count to the record's `heads`, else `defaultHeads` when > 0, else 3.
    public func vit(defaultHeads: Int = 0) throws -> ViT {
        let weights = try artifacts.artifact("vit.safetensors", of: "pretrain-vit")
        let recordData = try artifacts.data("vit.json", of: "pretrain-vit")
        let bytes = try artifacts.data(weights, of: "pretrain-vit")
        let url = artifacts.url(weights)
        if let record = try? JSONDecoder().decode(PretrainRecord.self, from: recordData), record.vit != nil {
            return try PretrainedModels.loadViT(weights: url, record: record)
        }
        return try ViTLoading.load(checkpoint: bytes, path: url.path, record: recordData, defaultHeads: defaultHeads)
    }
}
