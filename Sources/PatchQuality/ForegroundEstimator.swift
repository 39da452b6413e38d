import Imaging
import Models
import TensorCore

/// Foreground estimation for images without ground truth (METHODS 2: "a configurable foreground
/// estimator"). Returns per-pixel coverage in [0, 1], row-major width x height.
public enum ForegroundEstimator: String, Sendable, CaseIterable {
    /// Every pixel is foreground (no masking).
    case none
    /// Pixels whose RGB distance to the median border colour exceeds `threshold` (in 0...255 units)
    /// are foreground. Suits the references' clean, plain backgrounds (PatchDPO 4.1); unreliable on
    /// the textured backgrounds of generated images.
    case border
    /// The trained segmenter of `pretrain segmenter` (`Segmenter`, world masks with generated-look
    /// augmentation): a pixel is foreground when sigmoid(logit) > 0.5 (`segmenterCoverage`).
    case segmenter

    /// Whether `coverage` needs a `Segmenter` (load pretrain-segmenter's for it).
    public var needsSegmenter: Bool { self == .segmenter }

    /// Coverage of one image. `segmenter` must be given for `.segmenter` (a caller's bug otherwise: the
    /// stages load it whenever a configured estimator `needsSegmenter`).
    public func coverage(_ image: Image, threshold: Float = 40, segmenter: Segmenter? = nil) -> [Float] {
        let n = image.width * image.height
        switch self {
        case .none:
            return [Float](repeating: 1, count: n)
        case .border:
            return image.borderForeground(threshold: threshold)
        case .segmenter:
            guard let segmenter else {
                preconditionFailure("ForegroundEstimator.segmenter: no Segmenter given; load pretrain-segmenter's (UpstreamModels.segmenter)")
            }
            return Self.segmenterCoverage(segmenter, image: image)
        }
    }

    /// The segmenter's masks of images [B, 3, H, W] in [-1, 1] (H, W multiples of its `downsampleFactor`):
    /// per image, 1 where sigmoid(logit) > 0.5, else 0, row-major H x W.
    public static func segmenterCoverage(_ segmenter: Segmenter, images: Tensor) -> [[Float]] {
        segmenter.train(false)
        let p = segmenter.probabilities(images)
        let n = images.shape[2] * images.shape[3]
        return (0..<images.shape[0]).map { b in p.scalars[(b * n)..<((b + 1) * n)].map { $0 > 0.5 ? 1 : 0 } }
    }

    /// The segmenter's mask of one image of any size and channel count: an image whose sides are not
    /// multiples of the segmenter's factor is resized (bilinear) up to the next multiples and the mask read
    /// back at the image's pixels (nearest).
    public static func segmenterCoverage(_ segmenter: Segmenter, image: Image) -> [Float] {
        let f = segmenter.config.downsampleFactor
        let rgb = image.converted(toChannels: 3)
        let w = (rgb.width + f - 1) / f * f, h = (rgb.height + f - 1) / f * f
        let input = w == rgb.width && h == rgb.height ? rgb : rgb.resizedBilinear(width: w, height: h)
        let mask = segmenterCoverage(segmenter, images: Tensor(shape: [1, 3, h, w], scalars: input.toCHW()))[0]
        guard w != rgb.width || h != rgb.height else { return mask }
        var out = [Float](repeating: 0, count: rgb.width * rgb.height)
        for y in 0..<rgb.height {
            let sy = min(h - 1, Int((Float(y) + 0.5) * Float(h) / Float(rgb.height)))
            for x in 0..<rgb.width {
                out[y * rgb.width + x] = mask[sy * w + min(w - 1, Int((Float(x) + 0.5) * Float(w) / Float(rgb.width)))]
            }
        }
        return out
    }
}
