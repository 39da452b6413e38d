import Autograd
import NN
import Random
import TensorCore

/// Cross-attention with IP-Adapter's decoupled image branch (diffusers `attn2` + `IPAdapterAttnProcessor`).
///
/// x [B, L, C], text [B, Lt, ctx], image [B, Li, ctx] (optional):
///   q = to_q(x)                                          shared query
///   o = attn(q, to_k(text), to_v(text)) + ipScale * attn(q, to_k_ip(image), to_v_ip(image))
///   y = to_out.0(o)
/// with `attn` multi-head softmax(q_h k_h^T / sqrt(C/heads)) v_h. Keys: `to_q` [C, C], `to_k`, `to_v`,
/// `to_k_ip`, `to_v_ip` [C, ctx] (no bias), `to_out.0.{weight,bias}` [C, C]. Without image tokens (or
/// with ipScale 0) the image branch is skipped, which is the plain text-conditioned U-Net.
public final class IPCrossAttention: Module {
    public let base: Attention
    public let toKIP: Linear
    public let toVIP: Linear

    public init(queryDim: Int, contextDim: Int, heads: Int, key: RNGKey) {
        base = Attention(queryDim: queryDim, contextDim: contextDim, heads: heads, headDim: queryDim / heads, key: key)
        toKIP = Linear(contextDim, queryDim, bias: false, key: key.fold(in: "to_k_ip"))
        toVIP = Linear(contextDim, queryDim, bias: false, key: key.fold(in: "to_v_ip"))
    }

    public var children: [(String, any Module)] { base.children + [("to_k_ip", toKIP), ("to_v_ip", toVIP)] }

    public func callAsFunction(_ x: Variable, text: Variable, image: Variable?, ipScale: Float) -> Variable {
        // Heads stay in the projections' [B, L, H*D] layout (fused kernel, no permutes).
        let q = base.toQ(x), heads = base.heads
        var o = multiHeadAttention(q, base.toK(text), base.toV(text), heads: heads)
        if let image, ipScale != 0 {
            let oi = multiHeadAttention(q, toKIP(image), toVIP(image), heads: heads)
            o = o + (ipScale == 1 ? oi : oi.scaled(ipScale))
        }
        return base.toOut(o)
    }

    /// IP-Adapter's initialisation of the image branch: copies `to_k`/`to_v` into `to_k_ip`/`to_v_ip`.
    public func initImageBranchFromText() {
        toKIP.weight.value = base.toK.weight.value
        toVIP.weight.value = base.toV.weight.value
    }
}

/// The IP-Adapter trainable set: "only the parameters for projecting image features are trainable".
///
/// `adapterParameters(unet:resampler:)` freezes every U-Net parameter except the `to_k_ip`/`to_v_ip`
/// of each decoupled cross-attention, unfreezes the whole resampler, and returns the trainable set
/// with unique keys: `image_proj.<resampler key>` (IP-Adapter's name for the resampler) followed by
/// the U-Net's own keys (`down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k_ip.weight`, ...).
/// The text encoder and image encoder are separate modules and are not touched here.
public func adapterParameters(unet: UNet2DConditionModel, resampler: Resampler) -> [(String, Parameter)] {
    unet.setRequiresGrad(false)
    let ip = unet.imageProjectionParameters()
    for (_, p) in ip { p.requiresGrad = true }
    resampler.setRequiresGrad(true)
    return resampler.namedParameters().map { ("image_proj.\($0.0)", $0.1) } + ip
}
