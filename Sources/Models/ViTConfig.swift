/// Shape of a ViT (MODELS.md, ViT-Tiny layout at 32x32): `imageSize`/`patchSize` squared patch
/// tokens plus one class token, `depth` pre-norm blocks of width `width` with `heads` heads and a
/// GELU MLP of `mlpDim`, LayerNorm eps `layerNormEps`, an optional classification head of `classes`.
///
/// Decoding fills absent keys with the defaults below, so a pipeline TOML may set only what differs.
public struct ViTConfig: Codable, Sendable, Equatable {
    public var imageSize = 32
    public var patchSize = 4
    public var inChannels = 3
    public var width = 192
    public var depth = 12
    public var heads = 3
    public var mlpDim = 768
    public var layerNormEps: Float = 1e-6
    /// Classes of the optional `head` (nil: no head, the encoder alone).
    public var classes: Int?
    /// Channels of the optional convolutional stem before the patch projection (timm `HybridEmbed`,
    /// 3x3 convs at full resolution); empty: the plain timm `PatchEmbed`.
    public var stemChannels: [Int] = []
    /// What the classification head reads (timm `global_pool`). The class token is computed either way
    /// (the judges' embedding).
    public var pool: ViTPool = .token

    /// The MODELS.md default (ViT-Tiny, depth 12, 32x32, patch 4, no head).
    public init() {}

    public init(imageSize: Int = 32, patchSize: Int = 4, inChannels: Int = 3, width: Int = 192, depth: Int = 12,
                heads: Int = 3, mlpDim: Int = 768, layerNormEps: Float = 1e-6, classes: Int? = nil, stemChannels: [Int] = [],
                pool: ViTPool = .token) {
        self.imageSize = imageSize
        self.patchSize = patchSize
        self.inChannels = inChannels
        self.width = width
        self.depth = depth
        self.heads = heads
        self.mlpDim = mlpDim
        self.layerNormEps = layerNormEps
        self.classes = classes
        self.stemChannels = stemChannels
        self.pool = pool
    }

    /// A tiny ViT for tests: 16x16, patch 4 (16 tokens + cls), width 32, depth 3, heads 2, MLP 64.
    public static let xs = ViTConfig(imageSize: 16, patchSize: 4, width: 32, depth: 3, heads: 2, mlpDim: 64)

    /// Patch tokens per image, (imageSize / patchSize)^2.
    public var patchCount: Int { (imageSize / patchSize) * (imageSize / patchSize) }
    /// Tokens per image including the class token.
    public var tokenCount: Int { patchCount + 1 }
    public var headDim: Int { width / heads }

    /// Checks every field; throws `EncoderError.invalidConfig` naming the first bad one.
    public func validate() throws(EncoderError) {
        try require(patchSize > 0, "ViT", "patchSize", patchSize, "must be positive")
        try require(imageSize > 0 && imageSize % patchSize == 0, "ViT", "imageSize", imageSize,
                    "must be a positive multiple of patchSize \(patchSize)")
        try require(inChannels > 0, "ViT", "inChannels", inChannels, "must be positive")
        try require(depth > 0, "ViT", "depth", depth, "must be positive")
        try require(heads > 0, "ViT", "heads", heads, "must be positive")
        try require(width > 0 && width % heads == 0, "ViT", "width", width, "must be a positive multiple of heads \(heads)")
        try require(mlpDim > 0, "ViT", "mlpDim", mlpDim, "must be positive")
        try require(layerNormEps > 0, "ViT", "layerNormEps", layerNormEps, "must be positive")
        if let classes { try require(classes > 0, "ViT", "classes", classes, "must be positive when set") }
        for c in stemChannels { try require(c > 0, "ViT", "stemChannels", c, "must be positive") }
    }

    enum CodingKeys: String, CodingKey {
        case imageSize, patchSize, inChannels, width, depth, heads, mlpDim, layerNormEps, classes, stemChannels, pool
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = ViTConfig()
        imageSize = try c.decodeIfPresent(Int.self, forKey: .imageSize) ?? d.imageSize
        patchSize = try c.decodeIfPresent(Int.self, forKey: .patchSize) ?? d.patchSize
        inChannels = try c.decodeIfPresent(Int.self, forKey: .inChannels) ?? d.inChannels
        width = try c.decodeIfPresent(Int.self, forKey: .width) ?? d.width
        depth = try c.decodeIfPresent(Int.self, forKey: .depth) ?? d.depth
        heads = try c.decodeIfPresent(Int.self, forKey: .heads) ?? d.heads
        mlpDim = try c.decodeIfPresent(Int.self, forKey: .mlpDim) ?? d.mlpDim
        layerNormEps = try c.decodeIfPresent(Float.self, forKey: .layerNormEps) ?? d.layerNormEps
        classes = try c.decodeIfPresent(Int.self, forKey: .classes)
        stemChannels = try c.decodeIfPresent([Int].self, forKey: .stemChannels) ?? []
        pool = try c.decodeIfPresent(ViTPool.self, forKey: .pool) ?? d.pool
    }
}

/// What a ViT's classification head reads (timm `global_pool`; stored in records as the raw value).
public enum ViTPool: String, Codable, Sendable, CaseIterable {
    /// The class token after `norm`.
    case token
    /// The mean of the patch tokens after `norm` (timm's avg pool with `fc_norm=False`, same keys).
    case avg
}
