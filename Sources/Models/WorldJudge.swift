import Autograd
import NN
import Random
import TensorCore

/// One classification head of the judge: a name (the attribute, e.g. `category`) and its class count.
public struct JudgeHeadSpec: Codable, Sendable, Equatable {
    public var name: String
    public var classes: Int
    public init(name: String, classes: Int) { self.name = name; self.classes = classes }
}

/// The bench's judge (MODELS.md "Judges"): one ResNet tower whose pooled feature feeds
/// - attribute heads (linear, one per `heads` entry: category, colours, patterns, decal, background),
/// - the DINO stand-in: `embedding` (linear to `embedDim`), compared by cosine,
/// - the CLIP stand-in: `clip.visual_projection` (to `clipDim`) against a text tower
///   (`clip.text_model`, the project's `TextEncoder`, and `clip.text_projection`), with `clip.logit_scale`.
public struct JudgeConfig: Codable, Sendable, Equatable {
    public var tower: ResNetConfig
    public var heads: [JudgeHeadSpec]
    public var embedDim: Int
    public var clipDim: Int
    public var text: TextEncoderConfig
    public var logitScaleInit: Float

    public init(tower: ResNetConfig = ResNetConfig(), heads: [JudgeHeadSpec], embedDim: Int = 128, clipDim: Int = 128,
                text: TextEncoderConfig = TextEncoderConfig(), logitScaleInit: Float = 2.659) {
        self.tower = tower; self.heads = heads; self.embedDim = embedDim; self.clipDim = clipDim
        self.text = text; self.logitScaleInit = logitScaleInit
    }

    public func validate() throws(EncoderError) {
        try tower.validate()
        try text.validate()
        try require(!heads.isEmpty, "Judge", "heads", 0, "needs at least one head")
        try require(Set(heads.map(\.name)).count == heads.count, "Judge", "heads", heads.map(\.name), "names must be unique")
        try require(heads.allSatisfy { $0.classes >= 2 }, "Judge", "heads", heads.map(\.classes), "every head needs >= 2 classes")
        try require(embedDim > 0 && clipDim > 0, "Judge", "embedDim", embedDim, "embedding widths must be positive")
        try require(logitScaleInit.isFinite, "Judge", "logitScaleInit", logitScaleInit, "must be finite")
    }

    public func head(_ name: String) -> JudgeHeadSpec? { heads.first { $0.name == name } }
}

/// The judge's outputs for a batch of images.
public struct JudgeOutput {
    /// Logits [B, classes] per head name.
    public var logits: [String: Variable]
    /// DINO stand-in embedding [B, embedDim] (not normalised).
    public var embedding: Variable
    /// CLIP stand-in image embedding [B, clipDim], unit rows.
    public var clipImage: Variable
}

public final class WorldJudge: Module {
    public let config: JudgeConfig
    public let tower: ResNet
    public let heads: [Linear]
    public let embedding: Linear
    public let visualProjection: Linear
    public let textModel: TextEncoder
    public let textProjection: Linear
    public let logitScale: Parameter

    public init(config: JudgeConfig, key: RNGKey) throws(EncoderError) {
        try config.validate()
        self.config = config
        let f = config.tower.featureWidth
        tower = try ResNet(config: config.tower, key: key.fold(in: "tower"))
        heads = config.heads.map { Linear(f, $0.classes, key: key.fold(in: "head").fold(in: $0.name)) }
        embedding = Linear(f, config.embedDim, key: key.fold(in: "embedding"))
        visualProjection = Linear(f, config.clipDim, bias: false, key: key.fold(in: "visual_projection"))
        textModel = try TextEncoder(config: config.text, key: key.fold(in: "text_model"))
        textProjection = Linear(config.text.width, config.clipDim, bias: false, key: key.fold(in: "text_projection"))
        logitScale = Parameter(Tensor(scalar: config.logitScaleInit), requiresGrad: true)
    }

    public var directParameters: [(String, Parameter)] { [("clip.logit_scale", logitScale)] }

    public var children: [(String, any Module)] {
        [("tower", tower)] + zip(config.heads, heads).map { ("heads.\($0.name)", $1) }
            + [("embedding", embedding), ("clip.visual_projection", visualProjection), ("clip.text_model", textModel),
               ("clip.text_projection", textProjection)]
    }

    /// Every image output of images [B, 3, S, S] in [-1, 1] from one tower pass.
    public func forward(_ images: Variable) -> JudgeOutput {
        let p = tower.pooled(images)
        var logits: [String: Variable] = [:]
        for (spec, head) in zip(config.heads, heads) { logits[spec.name] = head(p) }
        return JudgeOutput(logits: logits, embedding: embedding(p), clipImage: CLIPModel.normalize(visualProjection(p)))
    }

    /// How the judge reads images [B, 3, S, S] for a verdict (gates, bench): no gradient, and the mean of
    /// its outputs on the image and its mirror image (the world draws subjects flipped at random, so
    /// both are renders of the same subject): logits and the DINO embedding averaged, the CLIP image
    /// embedding averaged and renormalised. Training uses `forward`.
    public func read(_ images: Tensor) -> JudgeOutput {
        let b = images.shape[0]
        let both = withNoGrad { forward(Variable(Tensor(shape: [2 * b] + images.shape.dropFirst(),
                                                        scalars: images.scalars + WorldJudge.mirrored(images).scalars))) }
        func mean(_ v: Variable) -> Variable {
            let per = v.value.count / (2 * b)
            let a = v.value.scalars
            return Variable(Tensor(shape: [b] + v.shape.dropFirst(), scalars: (0..<(b * per)).map { 0.5 * (a[$0] + a[b * per + $0]) }))
        }
        return JudgeOutput(logits: both.logits.mapValues(mean), embedding: mean(both.embedding),
                           clipImage: withNoGrad { CLIPModel.normalize(mean(both.clipImage)) })
    }

    /// Images [B, C, H, W] mirrored left-right.
    public static func mirrored(_ x: Tensor) -> Tensor {
        let w = x.shape[3], rows = x.count / w
        var out = x.scalars
        for r in 0..<rows { for c in 0..<w { out[r * w + c] = x.scalars[r * w + (w - 1 - c)] } }
        return Tensor(shape: x.shape, scalars: out)
    }

    /// Unit-norm CLIP-stand-in text embeddings [B, clipDim] of token ids.
    public func textEmbeddings(_ ids: [[Int32]]) -> Variable {
        CLIPModel.normalize(textProjection(textModel.forward(ids).pooled))
    }

    /// Clamps `clip.logit_scale` into [0, log 100] (open_clip).
    public func clampLogitScale() {
        let v = logitScale.value.scalars[0]
        logitScale.value = Tensor(scalar: Swift.min(Swift.max(v, 0), 4.6052))
    }
}
