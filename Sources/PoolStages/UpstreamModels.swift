import Checkpoint
import Foundation
import Generation
import Manifest
import Models
import NN
import Random
import StageKit

/// Finding and loading the pretrained models a pool stage consumes from its upstream stages' outputs.
/// A missing artifact is `StageError.missingFile` naming the stage that should have produced it (exit 66);
/// an edited one `StageError.inputUnverified` (exit 65).
public struct UpstreamModels {
    public let runner: StageRunner

    public init(runner: StageRunner) { self.runner = runner }

    /// The verified file URL of artifact `name` (last path component) of upstream stage `upstream`.
    public func file(_ name: String, of upstream: String) throws -> URL {
        let outputs = try runner.upstreamOutputs(upstream)
        guard let a = outputs.first(where: { ($0.relativePath as NSString).lastPathComponent == name }) else {
            throw StageError.missingFile(
                path: runner.layout.artifacts(upstream).appendingPathComponent(name).path,
                hint: "stage \(upstream) should have produced \(name); rerun it (make stage STAGE=\(upstream) ARGS=--force)")
        }
        _ = try runner.readVerified(a, upstream: upstream)
        return runner.layout.root.appendingPathComponent(a.relativePath)
    }

    /// The outputs of `stages`, plus pretrain-vae's when pretrain-unet's record names an autoencoder (a
    /// latent U-Net): what a stage that samples the generator consumes, for its fingerprint and lineage.
    public func inputs(_ stages: [String]) throws -> [ArtifactRecord] {
        let declared = try stages.flatMap { try runner.upstreamOutputs($0) }
        guard !stages.contains("pretrain-vae"), try record("unet", of: "pretrain-unet").record.vae != nil else { return declared }
        return declared + (try runner.upstreamOutputs("pretrain-vae"))
    }

    /// The record `<base>.json` and weights `<base>.safetensors` of `upstream`.
    public func record(_ base: String, of upstream: String) throws -> (weights: URL, record: PretrainRecord) {
        let w = try file("\(base).safetensors", of: upstream)
        let r = try PretrainRecord.read(try file("\(base).json", of: upstream))
        return (w, r)
    }

    /// The personalized generator: CLIP text + image towers (pretrain-clip), U-Net (pretrain-unet),
    /// resampler + ip projections (pretrain-adapter).
    public func generator() throws -> Generator {
        let (cw, cr) = try record("clip", of: "pretrain-clip")
        let (uw, ur) = try record("unet", of: "pretrain-unet")
        let (aw, ar) = try record("adapter", of: "pretrain-adapter")
        let clip = try Generator.loadCLIP(weights: cw, record: cr)
        let unet = try Generator.loadUNet(weights: uw, record: ur)
        let text = try textEncoder(clip: clip, unetWeights: uw, unetRecord: ur)
        let (encoder, resampler) = try Generator.loadAdapter(weights: aw, record: ar, into: unet, clip: clip)
        return Generator(textEncoder: text, imageEncoder: encoder, resampler: resampler, unet: unet, vae: try autoencoder(for: ur),
                         schedule: try Generator.noiseSchedule(record: ur, path: uw), resolution: ur.resolution)
    }

    /// The text encoder pretrain-unet's U-Net was trained with: its own tuned tower (a verified output of
    /// pretrain-unet) when the record names one, else CLIP's.
    public func textEncoder(clip: CLIPModel, unetWeights: URL, unetRecord: PretrainRecord) throws -> TextEncoder {
        if let name = unetRecord.textEncoderFile { _ = try file(name, of: "pretrain-unet") }
        return try Generator.loadTextEncoder(clip: clip, unetWeights: unetWeights, unetRecord: unetRecord)
    }

    /// The autoencoder of a latent U-Net (pretrain-vae's, which must be the one its record names); nil in pixel space.
    public func autoencoder(for unetRecord: PretrainRecord) throws -> AutoencoderKL? {
        guard unetRecord.vae != nil else { return nil }
        let (vw, vr) = try record("vae", of: "pretrain-vae")
        return try Generator.loadVAE(weights: vw, record: vr, for: unetRecord)
    }

    /// The CLIP pair of pretrain-clip.
    public func clip() throws -> CLIPModel {
        let (w, r) = try record("clip", of: "pretrain-clip")
        return try Generator.loadCLIP(weights: w, record: r)
    }

    /// The patch-feature ViT of pretrain-vit (its `head.*` included when the record has classes).
    public func vit() throws -> ViT {
        let (w, r) = try record("vit", of: "pretrain-vit")
        return try UpstreamModels.loadViT(weights: w, record: r)
    }

    /// A ViT from a record + weights file (weights checked strictly by name and shape).
    public static func loadViT(weights: URL, record: PretrainRecord) throws -> ViT {
        guard let cfg = record.vit else {
            throw GenerationError.badCheckpoint(path: weights.path, reason: "record has no `vit` config")
        }
        guard let data = FileManager.default.contents(atPath: weights.path) else {
            throw GenerationError.missingCheckpoint(path: weights.path)
        }
        let m = try ViT(config: cfg, key: RNGKey(seed: 0))
        try m.loadStrict(try SafeTensors.parse(data, path: weights.path), path: weights.path)
        return m
    }
}
