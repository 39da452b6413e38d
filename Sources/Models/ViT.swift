import Autograd
import NN
import Random
import TensorCore

/// timm `PatchEmbed`: a Conv2d(inChannels, width, kernel = stride = patch) as `proj`, flattened to
/// tokens: images [B, C, H, W] -> [B, (H/p)(W/p), width] in row-major patch order.
/// With `stemChannels` it is timm's `HybridEmbed`: a convolutional `backbone` first (3x3 convs,
/// stride 1, padding 1, each followed by GELU), then `proj` over its last channels. A stem gives the
/// patch tokens translation-equivariant local features, which a patch-4 projection alone learns
/// slowly on small images (data/checkpoints/README.md).
public final class PatchEmbed: Module {
    public let backbone: ConvStem?
    public let proj: Conv2d

    public init(inChannels: Int, width: Int, patch: Int, stemChannels: [Int] = [], key: RNGKey) {
        backbone = stemChannels.isEmpty ? nil : ConvStem(inChannels: inChannels, channels: stemChannels, key: key.fold(in: "backbone"))
        proj = Conv2d(stemChannels.last ?? inChannels, width, kernelSize: patch, stride: patch, key: key.fold(in: "proj"))
    }

    public var children: [(String, any Module)] {
        var c: [(String, any Module)] = []
        if let backbone { c.append(("backbone", backbone)) }
        c.append(("proj", proj))
        return c
    }

    public func callAsFunction(_ images: Variable) -> Variable {
        let y = proj(backbone.map { $0(images) } ?? images)             // [B, D, h, w]
        let (b, d) = (y.shape[0], y.shape[1])
        return y.reshaped([b, d, -1]).permuted([0, 2, 1])                // [B, h*w, D]
    }
}

/// The `HybridEmbed` backbone: `convs.{i}` = Conv2d(c_{i-1}, c_i, 3, padding 1) + GELU, full resolution.
public final class ConvStem: Module {
    public let convs: ModuleList<Conv2d>

    public init(inChannels: Int, channels: [Int], key: RNGKey) {
        convs = ModuleList(channels.enumerated().map { i, c in
            Conv2d(i == 0 ? inChannels : channels[i - 1], c, kernelSize: 3, padding: 1, key: key.fold(in: "convs.\(i)"))
        })
    }

    public var children: [(String, any Module)] { [("convs", convs)] }

    public func callAsFunction(_ x: Variable) -> Variable {
        convs.items.reduce(x) { $1($0).gelu() }
    }
}

/// What a ViT forward returns: the tokens after each tapped block and after the final norm.
public struct ViTOutput {
    /// Block index (1-based) -> tokens after that block, [B, 1 + N, D] (class token first, no final norm).
    public let taps: [Int: Variable]
    /// Tokens after the last block and `norm`, [B, 1 + N, D].
    public let final: Variable

    /// The N patch tokens after block `layer` (class token dropped), [B, N, D]: the paper's
    /// patch features of layer L. `layer` must have been tapped.
    public func patchTokens(after layer: Int) -> Variable {
        guard let t = taps[layer] else { preconditionFailure("ViTOutput: block \(layer) was not tapped (taps \(taps.keys.sorted()))") }
        return t.slice(axis: 1, start: 1, end: t.shape[1])
    }

    /// The N patch tokens after the final norm, [B, N, D] (avg pooling, per-patch training heads).
    public var finalPatchTokens: Variable { final.slice(axis: 1, start: 1, end: final.shape[1]) }

    /// The class token after the final norm, [B, D] (the image embedding of the judges).
    public var classToken: Variable {
        let b = final.shape[0], d = final.shape[2]
        return final.slice(axis: 1, start: 0, end: 1).reshaped([b, d])
    }
}

/// Vision Transformer (timm `VisionTransformer` layout, MODELS.md "ViT").
///
/// images [B, C, S, S] in [-1, 1] -> patch tokens [B, N, D] (N = (S/p)^2), class token prepended,
/// + `pos_embed` [1, 1 + N, D], then `depth` pre-norm `ViTBlock`s, then `norm` (LayerNorm, eps 1e-6);
/// optional `head` Linear(D, classes) on the normed class token.
/// Keys (in order): `cls_token` [1, 1, D], `pos_embed` [1, 1+N, D], with `stemChannels`
/// `patch_embed.backbone.convs.{i}.{weight,bias}` [c_i, c_{i-1}, 3, 3], `patch_embed.proj.{weight,bias}`,
/// `blocks.{i}.{norm1, attn.qkv, attn.proj, norm2, mlp.fc1, mlp.fc2}.{weight,bias}`,
/// `norm.{weight,bias}`, `head.{weight,bias}` when `classes` is set.
/// Init (timm): `pos_embed` and every Linear trunc-normal(0.02) with zero biases, `cls_token`
/// N(0, 1e-6^2), patch conv PyTorch default, LayerNorms 1/0.
public final class ViT: Module {
    public let config: ViTConfig
    public let clsToken: Parameter
    public let posEmbed: Parameter
    public let patchEmbed: PatchEmbed
    public let blocks: ModuleList<ViTBlock>
    public let norm: LayerNorm
    public let head: Linear?

    /// Builds the model with weights drawn from `key`; throws when the config is invalid.
    public init(config: ViTConfig = ViTConfig(), key: RNGKey) throws(EncoderError) {
        try config.validate()
        self.config = config
        let d = config.width
        clsToken = Parameter(Init.normal([1, 1, d], std: 1e-6, key: key.fold(in: "cls_token")), requiresGrad: true)
        posEmbed = Parameter(EncoderInit.truncatedNormal([1, config.tokenCount, d], std: 0.02, key: key.fold(in: "pos_embed")),
                             requiresGrad: true)
        patchEmbed = PatchEmbed(inChannels: config.inChannels, width: d, patch: config.patchSize, stemChannels: config.stemChannels,
                                key: key.fold(in: "patch_embed"))
        blocks = ModuleList((0..<config.depth).map { i in
            ViTBlock(width: d, heads: config.heads, mlpDim: config.mlpDim, eps: config.layerNormEps,
                     key: key.fold(in: "blocks.\(i)"))
        })
        norm = LayerNorm(d, eps: config.layerNormEps)
        head = config.classes.map { Linear(d, $0, key: key.fold(in: "head")) }
        for (name, p) in namedParameters() where name.hasPrefix("blocks.") || name.hasPrefix("head.") {
            guard p.shape.count == 2 else { continue }                   // Linear weights; biases zeroed below
            p.value = EncoderInit.truncatedNormal(p.shape, std: 0.02, key: key.fold(in: "init").fold(in: name))
        }
        for (name, p) in namedParameters() where name.hasSuffix(".bias") && !name.contains("norm") && !name.hasPrefix("patch_embed") {
            p.value = Tensor(zeros: p.shape)
        }
    }

    public var directParameters: [(String, Parameter)] { [("cls_token", clsToken), ("pos_embed", posEmbed)] }

    public var children: [(String, any Module)] {
        var c: [(String, any Module)] = [("patch_embed", patchEmbed), ("blocks", blocks), ("norm", norm)]
        if let head { c.append(("head", head)) }
        return c
    }

    /// Runs the encoder; `taps` are 1-based block indices (1...depth) whose outputs are kept.
    /// images: [B, inChannels, imageSize, imageSize], values in [-1, 1].
    public func forward(_ images: Variable, taps: [Int] = []) -> ViTOutput {
        let s = config.imageSize
        precondition(images.shape.count == 4 && images.shape[1] == config.inChannels && images.shape[2] == s && images.shape[3] == s,
                     "ViT: images \(images.shape), want [B, \(config.inChannels), \(s), \(s)]")
        precondition(taps.allSatisfy { (1...config.depth).contains($0) }, "ViT: taps \(taps) outside 1...\(config.depth)")
        let b = images.shape[0], d = config.width
        let patches = patchEmbed(images)                                  // [B, N, D]
        let cls = clsToken + Variable(Tensor(zeros: [b, 1, d]))           // broadcast to [B, 1, D]
        var x = concat([cls, patches], axis: 1) + posEmbed                // [B, 1 + N, D]
        var kept: [Int: Variable] = [:]
        let wanted = Set(taps)
        for (i, block) in blocks.items.enumerated() {
            x = block(x)
            if wanted.contains(i + 1) { kept[i + 1] = x }
        }
        return ViTOutput(taps: kept, final: norm(x))
    }

    /// Class logits `head(norm(x)[:, 0])` (pool "token") or `head(mean_i norm(x)[:, 1 + i])` (pool
    /// "avg"), [B, classes]. The model must have a head.
    public func logits(_ images: Variable) -> Variable {
        logits(from: forward(images))
    }

    /// The head on an existing forward pass (so a task can add losses on the same tokens).
    public func logits(from out: ViTOutput) -> Variable {
        guard let head else { preconditionFailure("ViT.logits: config has no `classes`, so the model has no head") }
        return head(config.pool == .avg ? out.finalPatchTokens.mean(axes: [1]) : out.classToken)
    }
}
