import Foundation
import Models
import Pretrained

extension Generator {
    /// A generator from a directory holding `clip`, `unet` and (optionally) `adapter` `.safetensors`
    /// + `.json` (data/checkpoints/ layout), each model built by Pretrained's loaders (SHA-256 checked, strict).
    /// Without an adapter it is the base text-to-image model.
    public static func load(directory: URL, adapter: Bool = true) throws(PretrainedError) -> Generator {
        func pair(_ name: String) throws(PretrainedError) -> (URL, PretrainRecord) {
            (directory.appendingPathComponent("\(name).safetensors"),
             try PretrainRecord.read(directory.appendingPathComponent("\(name).json")))
        }
        let (cw, cr) = try pair("clip"), (uw, ur) = try pair("unet")
        let clip = try PretrainedModels.loadCLIP(weights: cw, record: cr)
        let unet = try PretrainedModels.loadUNet(weights: uw, record: ur)
        let text = try PretrainedModels.loadTextEncoder(clip: clip, unetWeights: uw, unetRecord: ur)
        let schedule = try PretrainedModels.noiseSchedule(record: ur, path: uw)
        let vae = try PretrainedModels.latentAutoencoder(for: ur, directory: directory)
        guard adapter else {
            return Generator(textEncoder: text, imageEncoder: nil, resampler: nil, unet: unet, vae: vae,
                             schedule: schedule, resolution: ur.resolution)
        }
        let (aw, ar) = try pair("adapter")
        let (encoder, r, tuned) = try PretrainedModels.loadAdapter(weights: aw, record: ar, into: unet, clip: clip)
        return Generator(textEncoder: text, imageEncoder: encoder, resampler: r, unet: tuned, vae: vae,
                         schedule: schedule, resolution: ur.resolution,
                         trainedReferenceAttention: try ReferenceAttention.trained(ar, path: aw), trainedReferenceTimestep: ar.referenceTimestep)
    }
}

extension Generator {
    /// JeDi's starting point from a checkpoint directory's base model (no adapter): its text tower, noise schedule
    /// and resolution, and its U-Net widened to the inpainting input by `JeDiUNet.fromBase` (mask and reference
    /// channels zero, so it predicts what the base predicts until JeDi training, issue 17 item 3, moves it).
    /// Pixel space only: a latent base is refused (`GenerationError.mismatch`); loading fails as `load(directory:)`.
    public static func loadJeDiInitialisation(directory: URL) throws -> Generator {
        let base = try load(directory: directory, adapter: false)
        guard base.vae == nil else {
            throw GenerationError.mismatch(field: "generator", reason: "the base U-Net in \(directory.path) is latent; JeDi sampling is pixel-space only (docs/JEDI.md)")
        }
        return Generator(textEncoder: base.textEncoder, imageEncoder: nil, resampler: nil, unet: try JeDiUNet.fromBase(base.unet),
                         schedule: base.schedule, tokenizer: base.tokenizer, resolution: base.resolution)
    }
}

extension Generator {
    /// A trained JeDi generator (issue 17 item 4) from a checkpoint directory holding `clip` and `jedi`
    /// `.safetensors` + `.json` (pretrain-jedi's output, data/checkpoints layout): the JeDi U-Net, the text tower and
    /// noise schedule its record names (the base U-Net's, which pretrain-jedi copies). Sample it with
    /// `JeDiSampler` / `generateJeDi`. A file that is not a pixel-space JeDi U-Net (2c + 1 input channels) is refused.
    public static func loadJeDi(directory: URL) throws -> Generator {
        let cw = directory.appendingPathComponent("clip.safetensors"), jw = directory.appendingPathComponent("jedi.safetensors")
        let cr = try PretrainRecord.read(directory.appendingPathComponent("clip.json"))
        let jr = try PretrainRecord.read(directory.appendingPathComponent("jedi.json"))
        guard let cfg = jr.unet, jr.vae == nil, JeDiUNet.readsInpaintingInput(cfg) else {
            throw GenerationError.mismatch(field: "generator", reason: "\(jw.path) is not a pixel-space JeDi U-Net (its record's `unet` must read "
                                           + "2 x out + 1 channels and name no `vae`); train one with `pretrain jedi`")
        }
        let clip = try PretrainedModels.loadCLIP(weights: cw, record: cr)
        return Generator(textEncoder: try PretrainedModels.loadTextEncoder(clip: clip, unetWeights: jw, unetRecord: jr), imageEncoder: nil,
                         resampler: nil, unet: try PretrainedModels.loadUNet(weights: jw, record: jr), vae: nil,
                         schedule: try PretrainedModels.noiseSchedule(record: jr, path: jw), resolution: jr.resolution)
    }
}
