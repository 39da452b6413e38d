import Autograd
import NN
import Random
import TensorCore

/// Shape of the perceiver resampler (MODELS.md "Resampler"; IP-Adapter-Plus `Resampler`).
public struct ResamplerConfig: Codable, Sendable, Equatable {
    /// Width of the input tokens (the image encoder's width).
    public var embeddingDim: Int
    /// Internal width of the latent queries.
    public var dim: Int
    public var depth: Int
    public var heads: Int
    public var dimHead: Int
    public var numQueries: Int
    /// Width of the output tokens (the U-Net's cross-attention width).
    public var outputDim: Int
    public var ffMult: Int

    public init(embeddingDim: Int = 192, dim: Int = 128, depth: Int = 2, heads: Int = 4, dimHead: Int = 32,
                numQueries: Int = 8, outputDim: Int = 128, ffMult: Int = 4) {
        self.embeddingDim = embeddingDim
        self.dim = dim
        self.depth = depth
        self.heads = heads
        self.dimHead = dimHead
        self.numQueries = numQueries
        self.outputDim = outputDim
        self.ffMult = ffMult
    }

    /// MODELS.md: ViT-Tiny tokens (192) -> 8 queries x 128, depth 2, 4 heads -> 128.
    public static let standard = ResamplerConfig()
    /// Tests: ViT `xs` tokens (32) -> 4 queries x 32, depth 2, 2 heads of 16 -> 128 (U-Net `xs` context).
    public static let xs = ResamplerConfig(embeddingDim: 32, dim: 32, depth: 2, heads: 2, dimHead: 16, numQueries: 4)

    public func validate() throws(UNetError) {
        for (name, v) in [("embeddingDim", embeddingDim), ("dim", dim), ("depth", depth), ("heads", heads),
                          ("dimHead", dimHead), ("numQueries", numQueries), ("outputDim", outputDim), ("ffMult", ffMult)]
        where v < 1 {
            throw .invalidConfig(field: "resampler.\(name)", reason: "is \(v); it must be at least 1")
        }
    }
}

/// IP-Adapter `PerceiverAttention`: the latents attend to [image tokens; latents].
///   x = norm1(x), l = norm2(latents); q = to_q(l); (k, v) = chunk(to_kv([x; l]), 2, dim: -1)
///   y = to_out(softmax(q_h k_h^T / sqrt(dimHead)) v_h, heads merged)
/// (IP-Adapter scales q and k by dimHead^-1/4 each; the product is the same.)
/// Keys: `norm1`, `norm2` LayerNorm(dim); `to_q` [inner, dim], `to_kv` [2 inner, dim], `to_out` [dim, inner],
/// no biases; inner = heads * dimHead.
public final class PerceiverAttention: Module {
    public let heads: Int
    public let dimHead: Int
    public let norm1: LayerNorm
    public let norm2: LayerNorm
    public let toQ: Linear
    public let toKV: Linear
    public let toOut: Linear

    public init(dim: Int, heads: Int, dimHead: Int, key: RNGKey) {
        self.heads = heads
        self.dimHead = dimHead
        let inner = heads * dimHead
        norm1 = LayerNorm(dim)
        norm2 = LayerNorm(dim)
        toQ = Linear(dim, inner, bias: false, key: key.fold(in: "to_q"))
        toKV = Linear(dim, 2 * inner, bias: false, key: key.fold(in: "to_kv"))
        toOut = Linear(inner, dim, bias: false, key: key.fold(in: "to_out"))
    }

    public var children: [(String, any Module)] {
        [("norm1", norm1), ("norm2", norm2), ("to_q", toQ), ("to_kv", toKV), ("to_out", toOut)]
    }

    /// x [B, N, dim], latents [B, Q, dim] -> [B, Q, dim].
    public func callAsFunction(_ x: Variable, latents: Variable) -> Variable {
        let xn = norm1(x), ln = norm2(latents)
        let kv = toKV(concat([xn, ln], axis: 1)).chunked(2, axis: -1)
        func split(_ t: Variable) -> Variable {
            t.reshaped([t.shape[0], t.shape[1], heads, dimHead]).permuted([0, 2, 1, 3])
        }
        let o = scaledDotProductAttention(split(toQ(ln)), split(kv[0]), split(kv[1]))
        let b = o.shape[0], q = o.shape[2]
        return toOut(o.permuted([0, 2, 1, 3]).reshaped([b, q, heads * dimHead]))
    }
}

/// IP-Adapter `FeedForward`: `Sequential(LayerNorm(dim), Linear(dim, mult dim, bias=False), GELU,
/// Linear(mult dim, dim, bias=False))`, keys `0` (norm), `1`, `3` (exact-erf GELU at index 2).
public final class ResamplerFeedForward: Module {
    public let norm: LayerNorm
    public let fc1: Linear
    public let fc2: Linear

    public init(dim: Int, mult: Int, key: RNGKey) {
        norm = LayerNorm(dim)
        fc1 = Linear(dim, mult * dim, bias: false, key: key.fold(in: "1"))
        fc2 = Linear(mult * dim, dim, bias: false, key: key.fold(in: "3"))
    }

    public var children: [(String, any Module)] { [("0", norm), ("1", fc1), ("3", fc2)] }

    public func callAsFunction(_ x: Variable) -> Variable { fc2(fc1(norm(x)).gelu()) }
}

/// One resampler layer: IP-Adapter's `ModuleList([PerceiverAttention, FeedForward])`, keys `0.*`, `1.*`.
public final class ResamplerLayer: Module {
    public let attn: PerceiverAttention
    public let ff: ResamplerFeedForward
    init(_ c: ResamplerConfig, key: RNGKey) {
        attn = PerceiverAttention(dim: c.dim, heads: c.heads, dimHead: c.dimHead, key: key.fold(in: "0"))
        ff = ResamplerFeedForward(dim: c.dim, mult: c.ffMult, key: key.fold(in: "1"))
    }
    public var children: [(String, any Module)] { [("0", attn), ("1", ff)] }
}

/// Perceiver resampler (IP-Adapter-Plus): maps image-encoder tokens to a few image tokens for the
/// U-Net's decoupled cross-attention.
///
/// tokens [B, N, embeddingDim] -> [B, numQueries, outputDim]:
///   x = proj_in(tokens); l = latents (repeated over B)
///   per layer: l = attn(x, l) + l; l = ff(l) + l
///   y = norm_out(proj_out(l))
/// Keys: `latents` [1, numQueries, dim] (init N(0, 1) / sqrt(dim)), `proj_in` [dim, embeddingDim] + bias,
/// `layers.{i}.0.{norm1,norm2,to_q,to_kv,to_out}`, `layers.{i}.1.{0,1,3}`, `proj_out` [outputDim, dim]
/// + bias, `norm_out` LayerNorm(outputDim). All LayerNorms eps 1e-5.
public final class Resampler: Module {
    public let config: ResamplerConfig
    public let latents: Parameter
    public let projIn: Linear
    public let layers: ModuleList<ResamplerLayer>
    public let projOut: Linear
    public let normOut: LayerNorm

    public init(config: ResamplerConfig = .standard, key: RNGKey) throws(UNetError) {
        try config.validate()
        self.config = config
        latents = Parameter(Init.normal([1, config.numQueries, config.dim], std: 1 / Float(config.dim).squareRoot(),
                                        key: key.fold(in: "latents")), requiresGrad: true)
        projIn = Linear(config.embeddingDim, config.dim, key: key.fold(in: "proj_in"))
        layers = ModuleList((0..<config.depth).map { ResamplerLayer(config, key: key.fold(in: "layers.\($0)")) })
        projOut = Linear(config.dim, config.outputDim, key: key.fold(in: "proj_out"))
        normOut = LayerNorm(config.outputDim)
    }

    public var directParameters: [(String, Parameter)] { [("latents", latents)] }
    public var children: [(String, any Module)] {
        [("proj_in", projIn), ("layers", layers), ("proj_out", projOut), ("norm_out", normOut)]
    }

    /// Checks the token shape; the error names the argument.
    public func validateInput(_ shape: [Int]) throws(UNetError) {
        guard shape.count == 3, shape[0] > 0, shape[2] == config.embeddingDim else {
            throw .invalidInput(field: "tokens", reason: "has shape \(shape); want [B, N, \(config.embeddingDim)] (image-encoder tokens)")
        }
    }

    /// tokens [B, N, embeddingDim] -> image tokens [B, numQueries, outputDim].
    public func forward(_ tokens: Variable) -> Variable {
        do { try validateInput(tokens.shape) } catch { preconditionFailure("Resampler.forward: \(error)") }
        let b = tokens.shape[0]
        let x = projIn(tokens)
        // Repeat over the batch by broadcasting against zeros: the gradient sums back over B.
        var l = latents + Variable(Tensor(zeros: [b, config.numQueries, config.dim]))
        for layer in layers.items {
            l = layer.attn(x, latents: l) + l
            l = layer.ff(l) + l
        }
        return normOut(projOut(l))
    }
}
