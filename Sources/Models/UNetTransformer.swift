import Autograd
import NN
import Random
import TensorCore

/// diffusers `FeedForward` with GEGLU (mult 4): `ff.net.0.proj` Linear(C, 8C) -> split into (a, g) ->
/// a * GELU(g) -> `ff.net.2` Linear(4C, C). GELU is the exact erf form (PyTorch `F.gelu`, diffusers);
/// the JAX peer calls `jax.nn.gelu`, whose default is the tanh approximation (max difference ~1e-3
/// per activation; same cost), the one deliberate difference from the peer.
public final class GEGLUFeedForward: Module {
    public let proj: Linear
    public let out: Linear

    public init(dim: Int, mult: Int = 4, key: RNGKey) {
        proj = Linear(dim, 2 * mult * dim, key: key.fold(in: "net.0.proj"))
        out = Linear(mult * dim, dim, key: key.fold(in: "net.2"))
    }

    public var children: [(String, any Module)] { [("net.0.proj", proj), ("net.2", out)] }

    public func callAsFunction(_ x: Variable) -> Variable {
        out(proj(x).geglu())   // fused a * GELU(g) over the two halves of proj's output
    }
}

/// diffusers `BasicTransformerBlock` (pre-norm), x [B, L, C]:
///   x = x + attn1(norm1(x))                              self-attention, coupled over sets of `setSize`
///                                                        images (JeDi; `Attention.coupled`; 1 = per image)
///   x = x + attn2(norm2(x), text, image, ipScale)        decoupled cross-attention
///   x = x + ff(norm3(x))                                 GEGLU
/// Keys: `norm1`, `attn1`, `norm2`, `attn2`, `norm3` (LayerNorm(C)), `ff.net.0.proj`, `ff.net.2`.
/// `selfAttention: false` drops the first line and its keys (`norm1`, `attn1`): a cross-attention block, for
/// levels where attention over every token pair costs too much (`UNetConfig.fullResolutionCrossAttention`).
public final class BasicTransformerBlock: Module {
    public let norm1: LayerNorm?
    public let attn1: Attention?
    public let norm2: LayerNorm
    public let attn2: IPCrossAttention
    public let norm3: LayerNorm
    public let ff: GEGLUFeedForward

    public init(dim: Int, contextDim: Int, heads: Int, eps: Float, selfAttention: Bool = true, key: RNGKey) {
        norm1 = selfAttention ? LayerNorm(dim, eps: eps) : nil
        attn1 = selfAttention ? Attention(queryDim: dim, heads: heads, headDim: dim / heads, key: key.fold(in: "attn1")) : nil
        norm2 = LayerNorm(dim, eps: eps)
        attn2 = IPCrossAttention(queryDim: dim, contextDim: contextDim, heads: heads, key: key.fold(in: "attn2"))
        norm3 = LayerNorm(dim, eps: eps)
        ff = GEGLUFeedForward(dim: dim, key: key.fold(in: "ff"))
    }

    public var children: [(String, any Module)] {
        (norm1.map { [("norm1", $0 as any Module)] } ?? []) + (attn1.map { [("attn1", $0 as any Module)] } ?? [])
            + [("norm2", norm2), ("attn2", attn2), ("norm3", norm3), ("ff", ff)]
    }

    /// `referenceKeys`: the self-attention reads (or records) the references' keys instead of coupling sets; `setMask`
    /// is then its per-key mask. Without them, a `setMask` makes the sets reference attention's [K references, image]
    /// (K = setSize - 1) and is their per-key bias [B, 1, 1, (K+1) L] (`ReferenceSetMask.keyBias`; `Attention.referenceSets`);
    /// no mask couples the sets plainly (JeDi).
    public func callAsFunction(_ x: Variable, text: Variable, image: Variable?, ipScale: Float, setSize: Int = 1,
                               setMask: Tensor? = nil, referenceKeys: ReferenceKeys? = nil) -> Variable {
        var h = x
        if let norm1, let attn1 {
            let n = norm1(x)
            if let referenceKeys {
                h = h + referenceKeys.attend(attn1, n, mask: setMask)
            } else if let setMask {
                h = h + attn1.referenceSets(n, referencesPerSet: setSize - 1, keyBias: setMask)
            } else {
                h = h + attn1.coupled(n, setSize: setSize)
            }
        }
        h = h + attn2(norm2(h), text: text, image: image, ipScale: ipScale)
        return h + ff(norm3(h))
    }
}

/// diffusers `Transformer2DModel` with `use_linear_projection=True` and one block, x [B, C, H, W]:
///   h = norm(x) (GroupNorm(groups(C), C)) -> [B, HW, C] -> proj_in (Linear) -> block -> proj_out (Linear)
///   y = x + h back in [B, C, H, W]
/// Keys: `norm`, `proj_in` [C, C], `transformer_blocks.0.*`, `proj_out` [C, C].
public final class Transformer2DModel: Module {
    public let norm: GroupNorm
    public let projIn: Linear
    public let block: BasicTransformerBlock
    public let projOut: Linear

    public init(channels: Int, contextDim: Int, heads: Int, groupNormEps: Float, layerNormEps: Float, selfAttention: Bool = true, key: RNGKey) {
        norm = GroupNorm(groups: UNetConfig.groups(for: channels), channels: channels, eps: groupNormEps)
        projIn = Linear(channels, channels, key: key.fold(in: "proj_in"))
        block = BasicTransformerBlock(dim: channels, contextDim: contextDim, heads: heads, eps: layerNormEps,
                                      selfAttention: selfAttention, key: key.fold(in: "transformer_blocks.0"))
        projOut = Linear(channels, channels, key: key.fold(in: "proj_out"))
    }

    public var children: [(String, any Module)] {
        [("norm", norm), ("proj_in", projIn), ("transformer_blocks.0", block), ("proj_out", projOut)]
    }

    /// `setMask`: keys of coupled self-attention per set (`ReferenceSetMask`, sets of 2), built at this level's size.
    /// `referenceKeys`: the self-attention records or reads the references' keys (`ReferenceKeys`; sets of 1, no set mask).
    public func callAsFunction(_ x: Variable, text: Variable, image: Variable?, ipScale: Float, setSize: Int = 1,
                               setMask: ReferenceSetMask? = nil, referenceKeys: ReferenceKeys? = nil) -> Variable {
        let b = x.shape[0], c = x.shape[1], hgt = x.shape[2], wid = x.shape[3]
        precondition(setMask == nil || setSize == setMask!.setSize,
                     "Transformer2DModel: a ReferenceSetMask of \(setMask!.referencesPerSet) references needs sets of \(setMask!.setSize), got \(setSize)")
        var h = norm(x).reshaped([b, c, hgt * wid]).permuted([0, 2, 1])
        let selfMask = block.attn1 == nil ? nil
            : referenceKeys.map { $0.keyMask(height: hgt, width: wid) } ?? setMask?.keyBias(height: hgt, width: wid)
        h = projOut(block(projIn(h), text: text, image: image, ipScale: ipScale, setSize: setSize, setMask: selfMask,
                          referenceKeys: referenceKeys))
        return x + h.permuted([0, 2, 1]).reshaped([b, c, hgt, wid])
    }
}
