import Autograd
import Foundation
import NN
import Random
import TensorCore
import Text

/// Shape of the CLIP-style pair: image ViT (no head) + text encoder, both projected to `embedDim`.
/// `logitScaleInit` is the initial log of the logit scale (CLIP: log(1/0.07)).
public struct CLIPConfig: Codable, Sendable, Equatable {
    public var vision = ViTConfig()
    public var text = TextEncoderConfig()
    public var embedDim = 128
    public var logitScaleInit: Float = log(1 / 0.07)

    /// The MODELS.md clip-judge: default ViT + default text encoder, 128-d shared embedding.
    public init() {}

    public init(vision: ViTConfig, text: TextEncoderConfig, embedDim: Int = 128, logitScaleInit: Float = log(1 / 0.07)) {
        self.vision = vision
        self.text = text
        self.embedDim = embedDim
        self.logitScaleInit = logitScaleInit
    }

    /// Tiny pair for tests: `ViTConfig.xs`, `TextEncoderConfig.xs`, 16-d embedding.
    public static let xs = CLIPConfig(vision: .xs, text: .xs, embedDim: 16)

    public func validate() throws(EncoderError) {
        try vision.validate()
        try require(vision.classes == nil, "CLIP", "vision.classes", vision.classes ?? 0, "the CLIP image tower has no head; unset it")
        try text.validate()
        try require(embedDim > 0, "CLIP", "embedDim", embedDim, "must be positive")
        try require(logitScaleInit.isFinite, "CLIP", "logitScaleInit", logitScaleInit, "must be finite")
    }

    enum CodingKeys: String, CodingKey { case vision, text, embedDim, logitScaleInit }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = CLIPConfig()
        vision = try c.decodeIfPresent(ViTConfig.self, forKey: .vision) ?? d.vision
        text = try c.decodeIfPresent(TextEncoderConfig.self, forKey: .text) ?? d.text
        embedDim = try c.decodeIfPresent(Int.self, forKey: .embedDim) ?? d.embedDim
        logitScaleInit = try c.decodeIfPresent(Float.self, forKey: .logitScaleInit) ?? d.logitScaleInit
    }
}

/// CLIP-style contrastive pair (HF `CLIPModel` keys): `logit_scale` [] (log of the temperature's
/// inverse), `text_model.*` (`TextEncoder`), `vision_model.*` (`ViT`), `visual_projection.weight`
/// [E, Dv] and `text_projection.weight` [E, Dt] (no bias, N(0, D^-1) init as open_clip).
///
/// image embedding u = normalize(visual_projection(ViT final class token)), [B, E];
/// text embedding  v = normalize(text_projection(pooled <eos> state)), [B, E];
/// logits = exp(logit_scale) u v^T, [B_img, B_txt]; normalize(z) = z / sqrt(sum z^2 + 1e-12).
public final class CLIPModel: Module {
    public let config: CLIPConfig
    public let logitScale: Parameter
    public let textModel: TextEncoder
    public let visionModel: ViT
    public let visualProjection: Linear
    public let textProjection: Linear

    public init(config: CLIPConfig = CLIPConfig(), key: RNGKey) throws(EncoderError) {
        try config.validate()
        self.config = config
        logitScale = Parameter(Tensor(scalar: config.logitScaleInit), requiresGrad: true)
        textModel = try TextEncoder(config: config.text, key: key.fold(in: "text_model"))
        visionModel = try ViT(config: config.vision, key: key.fold(in: "vision_model"))
        visualProjection = Linear(config.vision.width, config.embedDim, bias: false, key: key.fold(in: "visual_projection"))
        textProjection = Linear(config.text.width, config.embedDim, bias: false, key: key.fold(in: "text_projection"))
        EncoderInit.normalLinear(visualProjection, std: 1 / Float(config.vision.width).squareRoot(), key: key.fold(in: "init.visual"))
        EncoderInit.normalLinear(textProjection, std: 1 / Float(config.text.width).squareRoot(), key: key.fold(in: "init.text"))
    }

    public var directParameters: [(String, Parameter)] { [("logit_scale", logitScale)] }

    public var children: [(String, any Module)] {
        [("text_model", textModel), ("vision_model", visionModel),
         ("visual_projection", visualProjection), ("text_projection", textProjection)]
    }

    /// Unit-norm image embeddings [B, E] of images [B, 3, S, S] in [-1, 1].
    public func imageEmbeddings(_ images: Variable) -> Variable {
        CLIPModel.normalize(visualProjection(visionModel.forward(images).classToken))
    }

    /// Unit-norm text embeddings [B, E] of token ids (see `TextEncoder.forward`).
    public func textEmbeddings(_ ids: [[Int32]]) -> Variable {
        CLIPModel.normalize(textProjection(textModel.forward(ids).pooled))
    }

    /// Scaled cosine similarities exp(logit_scale) u v^T, [Bi, Bt].
    public func logits(images: Variable, ids: [[Int32]]) -> Variable {
        let u = imageEmbeddings(images), v = textEmbeddings(ids)
        return u.matmul(v.transposed(0, 1)) * logitScale.exp()
    }

    /// Symmetric InfoNCE of matched pairs (image i with text i):
    /// L = (CE(logits, 0..<B) + CE(logits^T, 0..<B)) / 2, a scalar [].
    public func contrastiveLoss(images: Variable, ids: [[Int32]]) -> Variable {
        precondition(images.shape[0] == ids.count, "CLIP loss: \(images.shape[0]) images vs \(ids.count) texts")
        return CLIPModel.symmetricInfoNCE(logits(images: images, ids: ids))
    }

    /// (CE(logits, diag) + CE(logits^T, diag)) / 2 for square logits [B, B].
    public static func symmetricInfoNCE(_ logits: Variable) -> Variable {
        let b = logits.shape[0]
        precondition(logits.shape == [b, b], "symmetricInfoNCE: logits \(logits.shape), want square [B, B]")
        let targets = (0..<Int32(b)).map { $0 }
        return (crossEntropyLoss(logits, targets: targets) + crossEntropyLoss(logits.transposed(0, 1), targets: targets)) * 0.5
    }

    /// Clamps `logit_scale` into [0, log 100] in place, as open_clip does after every optimizer step.
    public func clampLogitScale() {
        let v = logitScale.value.scalars[0]
        logitScale.value = Tensor(scalar: Swift.min(Swift.max(v, 0), Float(Foundation.log(100.0))))
    }

    /// z / sqrt(sum_j z_j^2 + 1e-12) over the last axis (torch `F.normalize` up to the eps form).
    public static func normalize(_ z: Variable) -> Variable {
        z / (z.squared().sum(axes: [-1], keepDims: true) + 1e-12).sqrt()
    }
}
