/// Shape of the text encoder (MODELS.md "Text encoder"): a `vocabSize` x `width` token embedding,
/// `maxLength` learned positions, `depth` pre-norm blocks with `heads` heads and a GELU MLP of
/// `mlpDim`, final LayerNorm (eps `layerNormEps`).
///
/// `vocabSize` must be at least the tokenizer's `vocabularySize` (ids beyond it are rejected by
/// `TextEncoder.validate`); spare rows are never indexed. Absent keys decode to the defaults.
public struct TextEncoderConfig: Codable, Sendable, Equatable {
    public var vocabSize = 256
    public var maxLength = 12
    public var width = 128
    public var depth = 2
    public var heads = 4
    public var mlpDim = 512
    public var layerNormEps: Float = 1e-5

    /// The MODELS.md default (width 128, 2 blocks, 4 heads, MLP 512, 12 positions).
    public init() {}

    public init(vocabSize: Int = 256, maxLength: Int = 12, width: Int = 128, depth: Int = 2, heads: Int = 4,
                mlpDim: Int = 512, layerNormEps: Float = 1e-5) {
        self.vocabSize = vocabSize
        self.maxLength = maxLength
        self.width = width
        self.depth = depth
        self.heads = heads
        self.mlpDim = mlpDim
        self.layerNormEps = layerNormEps
    }

    /// A tiny encoder for tests: vocabulary 32, 8 positions, width 16, 2 blocks, 2 heads, MLP 32.
    public static let xs = TextEncoderConfig(vocabSize: 32, maxLength: 8, width: 16, depth: 2, heads: 2, mlpDim: 32)

    public var headDim: Int { width / heads }

    /// Checks every field; throws `EncoderError.invalidConfig` naming the first bad one.
    public func validate() throws(EncoderError) {
        try require(vocabSize >= 4, "text encoder", "vocabSize", vocabSize, "must hold at least the 4 special tokens")
        try require(maxLength >= 3, "text encoder", "maxLength", maxLength, "must hold <bos>, a word and <eos>")
        try require(depth > 0, "text encoder", "depth", depth, "must be positive")
        try require(heads > 0, "text encoder", "heads", heads, "must be positive")
        try require(width > 0 && width % heads == 0, "text encoder", "width", width, "must be a positive multiple of heads \(heads)")
        try require(mlpDim > 0, "text encoder", "mlpDim", mlpDim, "must be positive")
        try require(layerNormEps > 0, "text encoder", "layerNormEps", layerNormEps, "must be positive")
    }

    enum CodingKeys: String, CodingKey { case vocabSize, maxLength, width, depth, heads, mlpDim, layerNormEps }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = TextEncoderConfig()
        vocabSize = try c.decodeIfPresent(Int.self, forKey: .vocabSize) ?? d.vocabSize
        maxLength = try c.decodeIfPresent(Int.self, forKey: .maxLength) ?? d.maxLength
        width = try c.decodeIfPresent(Int.self, forKey: .width) ?? d.width
        depth = try c.decodeIfPresent(Int.self, forKey: .depth) ?? d.depth
        heads = try c.decodeIfPresent(Int.self, forKey: .heads) ?? d.heads
        mlpDim = try c.decodeIfPresent(Int.self, forKey: .mlpDim) ?? d.mlpDim
        layerNormEps = try c.decodeIfPresent(Float.self, forKey: .layerNormEps) ?? d.layerNormEps
    }
}
