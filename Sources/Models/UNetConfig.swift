import ErrorKinds

/// Shape of the text-to-image U-Net (MODELS.md "Generator"), diffusers `UNet2DConditionModel` layout.
///
/// - levels: one per `blockOutChannels` entry; level 0 (full resolution) has resnets only (and
///   cross-attention blocks with `fullResolutionCrossAttention`), every deeper level has a resnet followed by a Transformer2D block,
///   `layersPerBlock` times; every level
///   but the last ends with a stride-2 conv downsampler. The up path mirrors it with
///   `layersPerBlock + 1` resnets per level (skip concatenation) and nearest-x2 + conv upsamplers.
/// - time embedding: sinusoidal of dim `blockOutChannels[0]` -> Linear -> SiLU -> Linear, width
///   `4 * blockOutChannels[0]`.
/// - attention: `heads` heads of dim channels / heads; cross-attention context width
///   `crossAttentionDim` for both the text states and the image tokens.
/// - GroupNorm groups: `groups(for: c) = min(32, c / 2)` (1 below 4 channels), eps `normEps`, as in
///   the JAX peer (shared/peers/unet_step_jax.py), so the benchmark compares the same network.
public struct UNetConfig: Codable, Sendable, Equatable {
    public var inChannels: Int
    public var outChannels: Int
    public var blockOutChannels: [Int]
    public var layersPerBlock: Int
    public var crossAttentionDim: Int
    public var heads: Int
    /// GroupNorm eps (ResNet, Transformer2D input norm, output norm). diffusers uses 1e-5 for the
    /// ResNets and 1e-6 for Transformer2D's norm; the peer uses 1e-5 everywhere, and so do we.
    public var normEps: Float
    /// LayerNorm eps of the transformer blocks (diffusers default 1e-5).
    public var layerNormEps: Float
    /// Global text conditioning (diffusers `class_embed_type = "projection"`,
    /// `projection_class_embeddings_input_dim`): when set, `class_embedding` (a `TimestepEmbedding`
    /// from this width to `timeEmbedDim`) maps the text states mean-pooled over tokens and adds the
    /// result to the time embedding, as Imagen adds its pooled text embedding (Saharia et al. 2022,
    /// 2.4). Every resnet then sees the prompt as a per-channel bias, not only the attention levels.
    /// nil (the default, and every record written before this field) = no class embedding.
    public var classEmbedInputDim: Int?
    /// Transformer2D blocks at level 0 too, without self-attention (`BasicTransformerBlock(selfAttention:
    /// false)`: keys `norm2`, `attn2`, `norm3`, `ff`): the full-resolution features that draw 2-4-pixel patterns
    /// then read the text and the image tokens themselves, not only through the 16x16 level. Self-attention
    /// (and so reference attention) is off at this level unless `fullResolutionSelfAttention` says otherwise.
    /// nil (the default, and every record written before this field) = level 0 has resnets only.
    public var fullResolutionCrossAttention: Bool?
    /// With `fullResolutionCrossAttention`, level 0's blocks get self-attention too (`norm1`, `attn1`), so reference
    /// attention reads the reference's 32x32 tokens where 2-4-pixel patterns are drawn. Cost (data/checkpoints/README.md):
    /// a training step about 4x and sampling 3.9x the CPU of the U-Net without level-0 attention (the [B, H, 1024, 2048]
    /// scores of [reference, image] sets; 10x before `Attention.referenceSets` and recomputed probabilities).
    /// nil (the default, and every record written before this field) = cross-attention blocks only.
    public var fullResolutionSelfAttention: Bool?

    public init(inChannels: Int = 3, outChannels: Int = 3, blockOutChannels: [Int] = [64, 128, 128],
                layersPerBlock: Int = 2, crossAttentionDim: Int = 128, heads: Int = 4,
                normEps: Float = 1e-5, layerNormEps: Float = 1e-5, classEmbedInputDim: Int? = nil,
                fullResolutionCrossAttention: Bool? = nil, fullResolutionSelfAttention: Bool? = nil) {
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.blockOutChannels = blockOutChannels
        self.layersPerBlock = layersPerBlock
        self.crossAttentionDim = crossAttentionDim
        self.heads = heads
        self.normEps = normEps
        self.layerNormEps = layerNormEps
        self.classEmbedInputDim = classEmbedInputDim
        self.fullResolutionCrossAttention = fullResolutionCrossAttention
        self.fullResolutionSelfAttention = fullResolutionSelfAttention
    }

    /// Whether level `level` carries Transformer2D blocks (with self-attention at levels > 0 only).
    public func hasAttention(level: Int) -> Bool { level > 0 || fullResolutionCrossAttention == true }

    /// Whether level `level`'s Transformer2D blocks carry self-attention (every level > 0; level 0 with
    /// `fullResolutionSelfAttention`).
    public func hasSelfAttention(level: Int) -> Bool { level > 0 || (hasAttention(level: 0) && fullResolutionSelfAttention == true) }

    /// MODELS.md default: channels [64, 128, 128], 2 layers per block, context 128, 4 heads.
    public static let standard = UNetConfig()
    /// Small preset for tests and the benchmark: channels [32, 64, 64].
    public static let xs = UNetConfig(blockOutChannels: [32, 64, 64])

    /// Width of the time embedding: 4 x the first level's channels.
    public var timeEmbedDim: Int { 4 * blockOutChannels[0] }

    /// GroupNorm groups for `channels`: min(32, channels / 2), or 1 below 4 channels (the peer's rule).
    public static func groups(for channels: Int) -> Int {
        channels >= 4 ? min(32, channels / 2) : 1
    }

    /// The input resolution must be divisible by 2^(levels - 1) (each downsampler halves it).
    public var resolutionMultiple: Int { 1 << (blockOutChannels.count - 1) }

    /// The concatenated width entering each resnet of each up block (`up_blocks.{i}`, deepest level first):
    /// the previous output plus the skip it pops (the down path pushes conv_in's output, then every resnet's
    /// and every downsampler's, and the up path pops them in reverse).
    public var upBlockInChannels: [[Int]] {
        let chans = blockOutChannels, layers = layersPerBlock
        var skips = [chans[0]]
        for (i, c) in chans.enumerated() { skips += Array(repeating: c, count: layers + (i == chans.count - 1 ? 0 : 1)) }
        var cin = chans[chans.count - 1]
        return chans.indices.reversed().map { level in
            (0...layers).map { _ in
                defer { cin = chans[level] }
                return cin + skips.removeLast()
            }
        }
    }

    /// Checks the config describes a buildable network; the error names the field.
    public func validate() throws(UNetError) {
        guard !blockOutChannels.isEmpty else {
            throw .invalidConfig(field: "blockOutChannels", reason: "is empty; give one width per level, e.g. [32, 64, 64]")
        }
        // Before the widths, which are divided by heads.
        guard heads >= 1, crossAttentionDim >= 1, inChannels >= 1, outChannels >= 1 else {
            throw .invalidConfig(field: "heads/crossAttentionDim/inChannels/outChannels", reason: "must all be positive")
        }
        for c in blockOutChannels where c <= 0 || c % heads != 0 {
            throw .invalidConfig(field: "blockOutChannels",
                                 reason: "width \(c) must be positive and divisible by heads (\(heads))")
        }
        for c in blockOutChannels where c % UNetConfig.groups(for: c) != 0 {
            throw .invalidConfig(field: "blockOutChannels", reason: "width \(c) is not divisible by its GroupNorm groups")
        }
        guard layersPerBlock >= 1 else {
            throw .invalidConfig(field: "layersPerBlock", reason: "is \(layersPerBlock); it must be at least 1")
        }
        // The up path's resnets normalise [previous, skip] concatenations: [48, 96, 96] passes the check above
        // but gives 144 = 96 + 48 channels, which 32 groups do not divide.
        for ins in upBlockInChannels { for c in ins where c % UNetConfig.groups(for: c) != 0 {
            throw .invalidConfig(field: "blockOutChannels", reason: "\(blockOutChannels) concatenates \(c) channels in the up path (a level's "
                                 + "output and a skip), which its \(UNetConfig.groups(for: c)) GroupNorm groups do not divide; use widths that "
                                 + "are multiples of 32 from 64 up, e.g. [32, 64, 64] or [64, 128, 128]")
        } }
        if let d = classEmbedInputDim, d != crossAttentionDim {
            throw .invalidConfig(field: "classEmbedInputDim", reason: "is \(d); the pooled text states are \(crossAttentionDim) wide (crossAttentionDim)")
        }
        guard blockOutChannels[0] % 2 == 0 else {
            throw .invalidConfig(field: "blockOutChannels[0]", reason: "\(blockOutChannels[0]) is the sinusoidal embedding width and must be even")
        }
    }
}

/// Problems with a U-Net or resampler config or its inputs; each names the field and suggests a fix.
public enum UNetError: Error, CustomStringConvertible, Equatable {
    case invalidConfig(field: String, reason: String)
    case invalidInput(field: String, reason: String)

    public var description: String {
        switch self {
        case let .invalidConfig(field, reason):
            return "U-Net config: \(field) \(reason) (see MODELS.md for the default shapes)"
        case let .invalidInput(field, reason):
            return "U-Net input: \(field) \(reason)"
        }
    }
}

extension UNetError: ClassifiedError {
    /// A config (from a TOML or a record) or inputs of the wrong shape (e.g. a resampler from another
    /// adapter) are bad data (65).
    public var errorKind: ErrorKind {
        switch self {
        case .invalidConfig, .invalidInput: return .badData
        }
    }
}
