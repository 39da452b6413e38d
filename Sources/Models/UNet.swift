import Autograd
import NN
import Random
import TensorCore

/// Text-to-image U-Net with decoupled image cross-attention (IP-Adapter-Plus analogue), pixel space,
/// epsilon prediction; diffusers `UNet2DConditionModel` keys (MODELS.md "Generator").
///
/// forward(x [B, in, H, W], timesteps [B], text [B, Lt, ctx], imageTokens [B, Li, ctx]?, ipScale):
///   temb = time_embedding(sinusoid(t, c0))                              [B, 4 c0]
///          (+ class_embedding(mean_tokens(text)) when config.classEmbedInputDim is set)
///   h = conv_in(x); skips = [h]
///   down level i: layers x (resnet [-> transformer]) (+ downsampler), each output pushed to skips
///   mid: resnet -> transformer -> resnet
///   up level i (reversed): (layers + 1) x (resnet(concat[h, skips.pop()]) [-> transformer]) (+ upsampler)
///   y = conv_out(SiLU(conv_norm_out(h)))                                [B, out, H, W]
/// H and W must be multiples of 2^(levels - 1). Keys, in PyTorch registration order: `conv_in`,
/// `time_embedding.linear_{1,2}`, [`class_embedding.linear_{1,2}`], `down_blocks.*`, `up_blocks.*`, `mid_block.*`, `conv_norm_out`, `conv_out`.
/// Initialisation: PyTorch defaults (kaiming-uniform) drawn from `key` by parameter path.
public final class UNet2DConditionModel: Module {
    public let config: UNetConfig
    public let convIn: Conv2d
    public let timeEmbedding: TimestepEmbedding
    /// Pooled-text projection added to the time embedding (`class_embedding.linear_{1,2}`), nil unless
    /// `config.classEmbedInputDim` is set.
    public let classEmbedding: TimestepEmbedding?
    public let downBlocks: ModuleList<UNetDownBlock>
    public let upBlocks: ModuleList<UNetUpBlock>
    public let midBlock: UNetMidBlock
    public let convNormOut: GroupNorm
    public let convOut: Conv2d

    public init(config: UNetConfig = .standard, key: RNGKey) throws(UNetError) {
        try config.validate()
        self.config = config
        let chans = config.blockOutChannels, layers = config.layersPerBlock, c0 = chans[0]
        convIn = Conv2d(config.inChannels, c0, kernelSize: 3, padding: 1, key: key.fold(in: "conv_in"))
        timeEmbedding = TimestepEmbedding(inDim: c0, outDim: config.timeEmbedDim, key: key.fold(in: "time_embedding"))
        classEmbedding = config.classEmbedInputDim.map {
            TimestepEmbedding(inDim: $0, outDim: config.timeEmbedDim, key: key.fold(in: "class_embedding"))
        }

        var down: [UNetDownBlock] = []
        var cin = c0
        for (i, c) in chans.enumerated() {
            let last = i == chans.count - 1
            down.append(UNetDownBlock(inChannels: cin, outChannels: c, layers: layers, attention: config.hasAttention(level: i), selfAttention: config.hasSelfAttention(level: i),
                                      downsample: !last, config: config, key: key.fold(in: "down_blocks.\(i)")))
            cin = c
        }
        downBlocks = ModuleList(down)
        midBlock = UNetMidBlock(channels: cin, config: config, key: key.fold(in: "mid_block"))

        var up: [UNetUpBlock] = []
        for (i, ins) in config.upBlockInChannels.enumerated() {
            let level = chans.count - 1 - i
            up.append(UNetUpBlock(inChannels: ins, outChannels: chans[level], attention: config.hasAttention(level: level), selfAttention: config.hasSelfAttention(level: level),
                                  upsample: level > 0, config: config, key: key.fold(in: "up_blocks.\(i)")))
        }
        upBlocks = ModuleList(up)
        convNormOut = GroupNorm(groups: UNetConfig.groups(for: c0), channels: c0, eps: config.normEps)
        convOut = Conv2d(c0, config.outChannels, kernelSize: 3, padding: 1, key: key.fold(in: "conv_out"))
    }

    public var children: [(String, any Module)] {
        [("conv_in", convIn), ("time_embedding", timeEmbedding)] + (classEmbedding.map { [("class_embedding", $0)] } ?? [])
            + [("down_blocks", downBlocks), ("up_blocks", upBlocks), ("mid_block", midBlock),
               ("conv_norm_out", convNormOut), ("conv_out", convOut)]
    }

    /// Checks input shapes against the config; the error names the argument and the expected shape.
    public func validateInputs(x: [Int], timesteps: Int, text: [Int], imageTokens: [Int]?) throws(UNetError) {
        let m = config.resolutionMultiple
        guard x.count == 4, x[1] == config.inChannels, x[2] % m == 0, x[3] % m == 0, x[2] > 0, x[3] > 0 else {
            throw .invalidInput(field: "x", reason: "has shape \(x); want [B, \(config.inChannels), H, W] with H, W multiples of \(m)")
        }
        guard timesteps == x[0] else {
            throw .invalidInput(field: "timesteps", reason: "has \(timesteps) entries for a batch of \(x[0]); give one per image")
        }
        guard text.count == 3, text[0] == x[0], text[2] == config.crossAttentionDim else {
            throw .invalidInput(field: "text", reason: "has shape \(text); want [\(x[0]), L, \(config.crossAttentionDim)]")
        }
        if let i = imageTokens, i.count != 3 || i[0] != x[0] || i[2] != config.crossAttentionDim {
            throw .invalidInput(field: "imageTokens", reason: "has shape \(i); want [\(x[0]), N, \(config.crossAttentionDim)] (the resampler's output)")
        }
    }

    /// Predicted noise [B, out, H, W]. Shapes are preconditions (see `validateInputs` for a typed check).
    /// `setSize` S > 1 makes every self-attention (`attn1`) coupled over sets of S consecutive rows of x
    /// (JeDi, `Attention.coupled`); B must be a multiple of S. Cross-attention stays per image.
    /// `referenceKeys` (sets of 1, no set mask): every self-attention also reads the references' keys recorded by
    /// `recordReferenceKeys`, the images of x being the sets' generated members.
    public func forward(_ x: Variable, timesteps: [Int], text: Variable, imageTokens: Variable?, ipScale: Float,
                        setSize: Int = 1, setMask: ReferenceSetMask? = nil, referenceKeys: ReferenceKeys? = nil) -> Variable {
        do {
            try validateInputs(x: x.shape, timesteps: timesteps.count, text: text.shape, imageTokens: imageTokens?.shape)
        } catch { preconditionFailure("UNet2DConditionModel.forward: \(error)") }
        precondition(setSize >= 1 && x.shape[0] % setSize == 0,
                     "UNet2DConditionModel.forward: batch \(x.shape[0]) is not a whole number of sets of \(setSize)")
        var temb = timeEmbedding(Variable(timestepEmbedding(timesteps, dim: config.blockOutChannels[0])))
        if let classEmbedding { temb = temb + classEmbedding(text.mean(axes: [1])) }
        precondition(referenceKeys == nil || (setSize == 1 && setMask == nil),
                     "UNet2DConditionModel.forward: referenceKeys replace sets; give setSize 1 and no setMask")
        let cond = UNetConditioning(temb: temb, text: text, image: imageTokens, ipScale: ipScale, setSize: setSize, setMask: setMask,
                                    referenceKeys: referenceKeys)
        var h = convIn(x)
        var skips = [h]
        for block in downBlocks.items {
            let (out, s) = block(h, cond)
            h = out
            skips += s
        }
        h = midBlock(h, cond)
        for block in upBlocks.items { h = block(h, skips: &skips, cond) }
        precondition(skips.isEmpty, "UNet: \(skips.count) skip connections left over (config \(config.blockOutChannels))")
        return convOut(convNormOut.normAndSiLU(h))
    }

    /// The references' self-attention keys and values (`ReferenceKeys`), from one lone pass of `references`
    /// [B K, ...] (row i's K references together) at `timesteps` under their sets' conditioning (`text`, `imageTokens`:
    /// [B K, ...], each set's repeated K times); `mask` (K references per set, B sets) says which keys the images read.
    /// Sampling only (no gradient).
    public func recordReferenceKeys(_ references: Tensor, timesteps: [Int], text: Tensor, imageTokens: Tensor?, ipScale: Float,
                                    mask: ReferenceSetMask) -> ReferenceKeys {
        precondition(mask.foreground.shape[0] == references.shape[0],
                     "recordReferenceKeys: \(references.shape[0]) references, a mask of \(mask.foreground.shape[0]) foregrounds")
        let keys = ReferenceKeys(mask: mask)
        _ = withNoGrad {
            forward(Variable(references), timesteps: timesteps, text: Variable(text), imageTokens: imageTokens.map { Variable($0) },
                    ipScale: ipScale, referenceKeys: keys)
        }
        keys.finishRecording()
        return keys
    }

    /// Every image-branch projection (`...attn2.to_k_ip`, `...attn2.to_v_ip`), with full keys.
    public func imageProjectionParameters() -> [(String, Parameter)] {
        namedParameters().filter { $0.0.hasSuffix("to_k_ip.weight") || $0.0.hasSuffix("to_v_ip.weight") }
    }

    /// Every decoupled cross-attention layer (to copy text weights into the image branch, etc.).
    public var crossAttentions: [IPCrossAttention] {
        func walk(_ m: any Module) -> [IPCrossAttention] {
            if let a = m as? IPCrossAttention { return [a] }
            return m.children.flatMap { walk($0.1) }
        }
        return walk(self)
    }
}
