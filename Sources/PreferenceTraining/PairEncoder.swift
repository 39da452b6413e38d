import Autograd
import Generation
import Models
import PatchQuality
import TensorCore
import World

/// Decodes and encodes listed pairs with the frozen text and image encoders (for JeDi: the text encoder, and each
/// reference's caption `Prompts.referenceCaption`).
public struct PairEncoder {
    public let pool: PoolReader
    public let models: PreferenceModels

    public init(pool: PoolReader, models: PreferenceModels) {
        self.pool = pool
        self.models = models
    }

    /// What the U-Net denoises for the pool image at `path`: the image, or its scaled latents.
    public func sample(_ path: String) throws -> Tensor {
        AutoencoderKL.diffusionSpace(try pool.image(path), vae: models.vae)
    }

    /// Encodes `pairs` (`first`, `second`: pool image paths); with `mapsOf`, each pair also gets that ViT's quality
    /// maps at the loss side (the generated image's map is the tensor `generatedMap`: `q_g`, or `q_aligned`); with
    /// `comprehensiveCaptions`, the text is the item's comprehensive caption instead of its prompt.
    public func encode(_ pairs: [PairEntry], mapsOf vit: String?, generatedMap: String = "q_g",
                       comprehensiveCaptions: Bool = false) throws -> [EncodedPair] {
        try withNoGrad {
            try pairs.map { p in
                let caption = comprehensiveCaptions ? try pool.comprehensiveCaption(for: p.second) : try pool.prompt(for: p.second)
                let ids = [models.tokenizer.encode(caption)]
                let text = models.textEncoder.forward(ids).states.value
                let ref = try pool.image(try pool.referencePath(for: p.first))
                let tokens = models.imageTokens(ref)
                let jedi = models.base == .jedi, coupled = models.referenceAttention || jedi
                let referenceIDs = jedi ? [models.tokenizer.encode(Prompts.referenceCaption(try pool.subject(for: p.first).category))] : nil
                let maps = try vit.map { try QualityMapFile.read(key: p.key, vit: $0, side: models.lossSide, generated: generatedMap,
                                                                upstream: pool.upstream) }
                return EncodedPair(key: p.key, first: try sample(p.first), second: try sample(p.second), text: text,
                                   image: tokens, qr: maps?.0, qg: maps?.1,
                                   reference: coupled ? AutoencoderKL.diffusionSpace(ref, vae: models.vae) : nil,
                                   foreground: models.referenceAttention ? ReferenceAttention.foreground(of: ref) : nil,
                                   referenceText: referenceIDs.map { models.textEncoder.forward($0).states.value })
            }
        }
    }
}
