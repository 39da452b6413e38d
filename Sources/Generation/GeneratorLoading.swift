import Foundation
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
        let (encoder, r) = try PretrainedModels.loadAdapter(weights: aw, record: ar, into: unet, clip: clip)
        return Generator(textEncoder: text, imageEncoder: encoder, resampler: r, unet: unet, vae: vae,
                         schedule: schedule, resolution: ur.resolution)
    }
}
