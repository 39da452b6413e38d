import Autograd
import Generation
import Imaging
import Models
import TensorCore
import Text
import World

/// The image scorers of score-and-pair (HG-DPO 3.1 with our judges). For reference image r, prompt p
/// and generated images g_1..g_N (RGB, resized to each model's input size, values in [-1, 1]):
/// - `vit_cls`    = cos(ViT_cls(g_i), ViT_cls(r)): class-token similarity under the pretrain-vit ViT;
/// - `clip_image` = cos(E_img(g_i), E_img(r)): CLIP-I image-image similarity;
/// - `clip_text`  = cos(E_img(g_i), E_txt(p)): CLIP-T text alignment.
/// - `patch_quality` = mean foreground q_g of g against r (`PatchQualityScorer`, on the same ViT).
/// Not thread-safe (holds modules); everything runs without gradients.
public final class PoolScorer {
    public static let names = ["clip_image", "clip_text", "patch_quality", "vit_cls"]
    public let vit: ViT?
    public let clip: CLIPModel?
    public let patchQuality: PatchQualityScorer?
    /// The foreground segmenter of a patch-quality scorer whose estimator is `segmenter`.
    public let segmenter: Segmenter?
    public let tokenizer: WordTokenizer

    /// `patchQuality` needs `vit` (it scores with the ViT's patch tokens), and `segmenter` when one of its
    /// estimators is `segmenter`.
    public init(vit: ViT?, clip: CLIPModel?, patchQuality: PatchQualityScorer? = nil, segmenter: Segmenter? = nil,
                tokenizer: WordTokenizer = WorldText.tokenizer()) {
        precondition(patchQuality == nil || vit != nil, "PoolScorer: the patch-quality scorer needs a ViT")
        precondition(!(patchQuality?.needsSegmenter ?? false) || segmenter != nil, "PoolScorer: a `segmenter` estimator needs a Segmenter")
        self.vit = vit; self.clip = clip; self.patchQuality = patchQuality; self.segmenter = segmenter; self.tokenizer = tokenizer
        vit?.train(false)
        clip?.train(false)
    }

    /// The scorers this instance can compute (sorted names).
    public var available: [String] {
        ((clip == nil ? [] : ["clip_image", "clip_text"]) + (patchQuality == nil ? [] : ["patch_quality"])
            + (vit == nil ? [] : ["vit_cls"]))
    }

    /// Scores of every image, one dictionary (scorer name -> score) per image.
    public func score(reference: Image, images: [Image], prompt: String) throws(GenerationError) -> [[String: Double]] {
        var out = [[String: Double]](repeating: [:], count: images.count)
        if let v = vit {
            let s = v.config.imageSize
            let x = try Sampler.tensor([reference] + images, size: s)
            let cls = withNoGrad { v.forward(Variable(x)).classToken.value }
            for (i, c) in PoolScorer.cosinesToFirst(cls).enumerated() { out[i]["vit_cls"] = c }
            if let pq = patchQuality {
                for (i, q) in pq.scores(v, segmenter: segmenter, reference: reference, images: images).enumerated() { out[i]["patch_quality"] = q }
            }
        }
        if let m = clip {
            let s = m.config.vision.imageSize
            let x = try Sampler.tensor([reference] + images, size: s)
            let (img, txt) = withNoGrad {
                (m.imageEmbeddings(Variable(x)).value, m.textEmbeddings([tokenizer.encode(prompt)]).value)
            }
            for (i, c) in PoolScorer.cosinesToFirst(img).enumerated() { out[i]["clip_image"] = c }
            let e = img.shape[1]
            let t = Array(txt.scalars[0..<e])
            for i in images.indices {
                out[i]["clip_text"] = PoolScorer.cosine(Array(img.scalars[((i + 1) * e)..<((i + 2) * e)]), t)
            }
        }
        return out
    }

    /// cos(row i+1, row 0) for the rows 1..<B of a [B, D] matrix.
    static func cosinesToFirst(_ m: Tensor) -> [Double] {
        let (b, d) = (m.shape[0], m.shape[1])
        let first = Array(m.scalars[0..<d])
        return (1..<b).map { cosine(Array(m.scalars[($0 * d)..<(($0 + 1) * d)]), first) }
    }

    /// Cosine similarity of two vectors (0 when either is zero).
    public static func cosine(_ a: [Float], _ b: [Float]) -> Double {
        precondition(a.count == b.count, "cosine: lengths \(a.count) and \(b.count)")
        var ab = 0.0, aa = 0.0, bb = 0.0
        for i in a.indices { ab += Double(a[i]) * Double(b[i]); aa += Double(a[i] * a[i]); bb += Double(b[i] * b[i]) }
        return aa > 0 && bb > 0 ? ab / (aa * bb).squareRoot() : 0
    }
}
