import Autograd
import NN
import Random
import TensorCore

/// The shared conditioning of every block in one forward pass.
public struct UNetConditioning {
    /// Time embedding [B, timeEmbedDim] (output of `time_embedding`).
    public var temb: Variable
    /// Text states [B, Lt, crossAttentionDim].
    public var text: Variable
    /// Image tokens [B, Li, crossAttentionDim] or nil.
    public var image: Variable?
    public var ipScale: Float
    /// Images per same-subject set for JeDi's coupled self-attention (1 = every image alone).
    public var setSize: Int = 1
    /// Keys of the coupled self-attention of [reference, generated] sets (reference attention); nil = unmasked.
    public var setMask: ReferenceSetMask? = nil
    /// The references' self-attention keys, recorded or read (reference attention with its keys made once).
    public var referenceKeys: ReferenceKeys? = nil
}

/// One level of the down path: diffusers `DownBlock2D` (no attentions) or `CrossAttnDownBlock2D`.
/// `layers` x (resnet [-> transformer]), then an optional stride-2 `downsamplers.0`.
/// Keys (diffusers registration order): `attentions.{j}.*`, `resnets.{j}.*`, `downsamplers.0.conv`.
/// Returns the output and every intermediate state the up path concatenates (one per resnet, plus
/// the downsampled output).
public final class UNetDownBlock: Module {
    public let resnets: ModuleList<ResnetBlock2D>
    public let attentions: ModuleList<Transformer2DModel>?
    public let downsampler: Downsample2D?

    /// `selfAttention: false`: the transformers are cross-attention blocks (`BasicTransformerBlock`).
    init(inChannels: Int, outChannels: Int, layers: Int, attention: Bool, selfAttention: Bool = true, downsample: Bool,
         config: UNetConfig, key: RNGKey) {
        resnets = ModuleList((0..<layers).map { j in
            ResnetBlock2D(inChannels: j == 0 ? inChannels : outChannels, outChannels: outChannels,
                          timeEmbedDim: config.timeEmbedDim, eps: config.normEps, key: key.fold(in: "resnets.\(j)"))
        })
        attentions = attention ? ModuleList((0..<layers).map { j in
            Transformer2DModel(channels: outChannels, contextDim: config.crossAttentionDim, heads: config.heads,
                               groupNormEps: config.normEps, layerNormEps: config.layerNormEps, selfAttention: selfAttention,
                               key: key.fold(in: "attentions.\(j)"))
        }) : nil
        downsampler = downsample ? Downsample2D(channels: outChannels, key: key.fold(in: "downsamplers.0")) : nil
    }

    public var children: [(String, any Module)] {
        var c: [(String, any Module)] = []
        if let attentions { c.append(("attentions", attentions)) }
        c.append(("resnets", resnets))
        if let downsampler { c.append(("downsamplers.0", downsampler)) }
        return c
    }

    func callAsFunction(_ x: Variable, _ cond: UNetConditioning) -> (Variable, [Variable]) {
        var h = x
        var skips: [Variable] = []
        for j in 0..<resnets.count {
            h = resnets[j](h, temb: cond.temb)
            if let attentions { h = attentions[j](h, text: cond.text, image: cond.image, ipScale: cond.ipScale, setSize: cond.setSize,
                                                        setMask: cond.setMask, referenceKeys: cond.referenceKeys) }
            skips.append(h)
        }
        if let downsampler {
            h = downsampler(h)
            skips.append(h)
        }
        return (h, skips)
    }
}

/// diffusers `UNetMidBlock2DCrossAttn` with one layer: resnet -> transformer -> resnet.
/// Keys: `attentions.0.*`, `resnets.0.*`, `resnets.1.*`.
public final class UNetMidBlock: Module {
    public let resnets: ModuleList<ResnetBlock2D>
    public let attentions: ModuleList<Transformer2DModel>

    init(channels: Int, config: UNetConfig, key: RNGKey) {
        resnets = ModuleList((0..<2).map { j in
            ResnetBlock2D(inChannels: channels, outChannels: channels, timeEmbedDim: config.timeEmbedDim,
                          eps: config.normEps, key: key.fold(in: "resnets.\(j)"))
        })
        attentions = ModuleList([Transformer2DModel(channels: channels, contextDim: config.crossAttentionDim,
                                                    heads: config.heads, groupNormEps: config.normEps,
                                                    layerNormEps: config.layerNormEps, key: key.fold(in: "attentions.0"))])
    }

    public var children: [(String, any Module)] { [("attentions", attentions), ("resnets", resnets)] }

    func callAsFunction(_ x: Variable, _ cond: UNetConditioning) -> Variable {
        var h = resnets[0](x, temb: cond.temb)
        h = attentions[0](h, text: cond.text, image: cond.image, ipScale: cond.ipScale, setSize: cond.setSize,
                                                        setMask: cond.setMask, referenceKeys: cond.referenceKeys)
        return resnets[1](h, temb: cond.temb)
    }
}

/// One level of the up path: diffusers `UpBlock2D` or `CrossAttnUpBlock2D`. `layers + 1` x
/// (concat [h, skip] on channels -> resnet [-> transformer]), then an optional nearest-x2 `upsamplers.0`.
/// Keys: `attentions.{j}.*`, `resnets.{j}.*` (resnet j takes prev + skip_j channels), `upsamplers.0.conv`.
public final class UNetUpBlock: Module {
    public let resnets: ModuleList<ResnetBlock2D>
    public let attentions: ModuleList<Transformer2DModel>?
    public let upsampler: Upsample2D?

    /// `inChannels[j]` is the concatenated width entering resnet j.
    /// `selfAttention: false`: the transformers are cross-attention blocks (`BasicTransformerBlock`).
    init(inChannels: [Int], outChannels: Int, attention: Bool, selfAttention: Bool = true, upsample: Bool, config: UNetConfig, key: RNGKey) {
        resnets = ModuleList(inChannels.enumerated().map { j, cin in
            ResnetBlock2D(inChannels: cin, outChannels: outChannels, timeEmbedDim: config.timeEmbedDim,
                          eps: config.normEps, key: key.fold(in: "resnets.\(j)"))
        })
        attentions = attention ? ModuleList((0..<inChannels.count).map { j in
            Transformer2DModel(channels: outChannels, contextDim: config.crossAttentionDim, heads: config.heads,
                               groupNormEps: config.normEps, layerNormEps: config.layerNormEps, selfAttention: selfAttention,
                               key: key.fold(in: "attentions.\(j)"))
        }) : nil
        upsampler = upsample ? Upsample2D(channels: outChannels, key: key.fold(in: "upsamplers.0")) : nil
    }

    public var children: [(String, any Module)] {
        var c: [(String, any Module)] = []
        if let attentions { c.append(("attentions", attentions)) }
        c.append(("resnets", resnets))
        if let upsampler { c.append(("upsamplers.0", upsampler)) }
        return c
    }

    /// Pops one skip per resnet from the end of `skips`.
    func callAsFunction(_ x: Variable, skips: inout [Variable], _ cond: UNetConditioning) -> Variable {
        var h = x
        for j in 0..<resnets.count {
            let skip = skips.removeLast()
            h = resnets[j](concat([h, skip], axis: 1), temb: cond.temb)
            if let attentions { h = attentions[j](h, text: cond.text, image: cond.image, ipScale: cond.ipScale, setSize: cond.setSize,
                                                        setMask: cond.setMask, referenceKeys: cond.referenceKeys) }
        }
        return upsampler.map { $0(h) } ?? h
    }
}
