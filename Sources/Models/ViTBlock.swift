import Autograd
import NN
import Random
import TensorCore

/// timm `Attention`: fused `qkv` Linear(D, 3D, bias) and output `proj` Linear(D, D).
///
/// x [B, N, D] -> qkv(x) [B, N, 3D], whose last axis timm views as [3, H, D/H] (q, k, v, then heads), so its thirds
/// are q, k and v in the heads-merged layout [B, N, H D]; o = softmax(q k^T / sqrt(D/H)) v per head, heads merged,
/// proj(o). The attention is the fused per-head kernel (`multiHeadAttention`: no permute copies, no separate softmax
/// pass), equal up to rounding to timm's permute / reshape form.
/// Keys: `qkv.weight` [3D, D], `qkv.bias` [3D], `proj.weight` [D, D], `proj.bias` [D].
public final class ViTAttention: Module {
    public let heads: Int
    public let qkv: Linear
    public let proj: Linear

    public init(width: Int, heads: Int, key: RNGKey) {
        precondition(width % heads == 0, "ViTAttention: width \(width) not divisible by heads \(heads)")
        self.heads = heads
        qkv = Linear(width, 3 * width, key: key.fold(in: "qkv"))
        proj = Linear(width, width, key: key.fold(in: "proj"))
    }

    public var children: [(String, any Module)] { [("qkv", qkv), ("proj", proj)] }

    public func callAsFunction(_ x: Variable) -> Variable {
        let (b, n, d) = (x.shape[0], x.shape[1], x.shape[2])
        precondition(x.shape.count == 3 && d == proj.inFeatures, "ViTAttention(width \(proj.inFeatures)): input shape \(x.shape)")
        let qkv = qkv(x).chunked(3, axis: 2)                                           // 3 x [B, N, H hd]
        let o = multiHeadAttention(qkv[0], qkv[1], qkv[2], heads: heads)               // [B, N, H hd]
        precondition(o.shape == [b, n, d], "ViTAttention: attention output \(o.shape)")
        return proj(o)
    }
}

/// timm / CLIP `Mlp`: fc1 Linear(D, M) -> GELU (exact erf) -> fc2 Linear(M, D).
/// Keys: `fc1.weight` [M, D], `fc1.bias` [M], `fc2.weight` [D, M], `fc2.bias` [D].
public final class TransformerMLP: Module {
    public let fc1: Linear
    public let fc2: Linear

    public init(width: Int, hidden: Int, key: RNGKey) {
        fc1 = Linear(width, hidden, key: key.fold(in: "fc1"))
        fc2 = Linear(hidden, width, key: key.fold(in: "fc2"))
    }

    public var children: [(String, any Module)] { [("fc1", fc1), ("fc2", fc2)] }

    public func callAsFunction(_ x: Variable) -> Variable { fc2(fc1(x).gelu()) }
}

/// timm pre-norm ViT `Block`: x = x + attn(norm1(x)); x = x + mlp(norm2(x)), x [B, N, D].
/// Keys: `norm1`, `attn.qkv`, `attn.proj`, `norm2`, `mlp.fc1`, `mlp.fc2`.
public final class ViTBlock: Module {
    public let norm1: LayerNorm
    public let attn: ViTAttention
    public let norm2: LayerNorm
    public let mlp: TransformerMLP

    public init(width: Int, heads: Int, mlpDim: Int, eps: Float, key: RNGKey) {
        norm1 = LayerNorm(width, eps: eps)
        attn = ViTAttention(width: width, heads: heads, key: key.fold(in: "attn"))
        norm2 = LayerNorm(width, eps: eps)
        mlp = TransformerMLP(width: width, hidden: mlpDim, key: key.fold(in: "mlp"))
    }

    public var children: [(String, any Module)] {
        [("norm1", norm1), ("attn", attn), ("norm2", norm2), ("mlp", mlp)]
    }

    public func callAsFunction(_ x: Variable) -> Variable {
        let h = x + attn(norm1(x))
        return h + mlp(norm2(h))
    }
}

/// Initialisations of the transformer encoders (timm `trunc_normal_`, CLIP's normals).
enum EncoderInit {
    /// N(0, std^2) truncated to [-2 std, 2 std] (timm `trunc_normal_(std=std)`, whose default cut
    /// is at +-2 absolute; for std 0.02 we cut at +-2 std, i.e. +-0.04, as timm's ViT init intends).
    /// An out-of-range element i is redrawn as element i of `key` folded with the round number, so
    /// each value still depends only on (key, index).
    static func truncatedNormal(_ shape: [Int], std: Float, key: RNGKey) -> Tensor {
        var values = Init.normal(shape, std: std, key: key).scalars
        for i in values.indices where abs(values[i]) > 2 * std {
            var round: UInt64 = 1
            repeat {
                values[i] = std * key.fold(in: round).normal(at: UInt64(i))
                round += 1
            } while abs(values[i]) > 2 * std
        }
        return Tensor(shape: shape, scalars: values)
    }

    /// Sets a Linear's weight to trunc-normal(std) and its bias to zero (timm `init_weights_vit_timm`).
    static func timmLinear(_ l: Linear, key: RNGKey, std: Float = 0.02) {
        l.weight.value = truncatedNormal(l.weight.shape, std: std, key: key)
        if let b = l.bias { b.value = Tensor(zeros: b.shape) }
    }

    /// Sets a Linear's weight to N(0, std^2) and its bias to zero (open_clip `init_parameters`).
    static func normalLinear(_ l: Linear, std: Float, key: RNGKey) {
        l.weight.value = Init.normal(l.weight.shape, std: std, key: key)
        if let b = l.bias { b.value = Tensor(zeros: b.shape) }
    }
}
