import Autograd
import Foundation
import NN
import Random
import TensorCore

/// Sinusoidal timestep features, diffusers `get_timestep_embedding(t, dim, flip_sin_to_cos=True,
/// downscale_freq_shift=0)`: with half = dim / 2 and f_i = exp(-ln(10000) i / half),
/// emb[b] = [cos(t_b f_0), ..., cos(t_b f_{half-1}), sin(t_b f_0), ..., sin(t_b f_{half-1})]
/// ([B, dim]; an odd dim gets a zero last column as in diffusers). No parameters, no gradient.
/// Arguments are formed in Float like PyTorch's float32 path (t * f in float32, then cos/sin).
public func timestepEmbedding(_ timesteps: [Int], dim: Int) -> Tensor {
    let half = dim / 2
    var out = [Float](repeating: 0, count: timesteps.count * dim)
    let freqs = (0..<half).map { Float(exp(-log(10000.0) * Double($0) / Double(half))) }
    for (b, t) in timesteps.enumerated() {
        for i in 0..<half {
            let a = Float(t) * freqs[i]
            out[b * dim + i] = cos(a)
            out[b * dim + half + i] = sin(a)
        }
    }
    return Tensor(shape: [timesteps.count, dim], scalars: out)
}

/// diffusers `TimestepEmbedding`: `linear_2(SiLU(linear_1(x)))`, [B, in] -> [B, out].
/// Keys: `linear_1.{weight,bias}` [out, in], `linear_2.{weight,bias}` [out, out].
public final class TimestepEmbedding: Module {
    public let linear1: Linear
    public let linear2: Linear

    public init(inDim: Int, outDim: Int, key: RNGKey) {
        linear1 = Linear(inDim, outDim, key: key.fold(in: "linear_1"))
        linear2 = Linear(outDim, outDim, key: key.fold(in: "linear_2"))
    }

    public var children: [(String, any Module)] { [("linear_1", linear1), ("linear_2", linear2)] }

    public func callAsFunction(_ x: Variable) -> Variable { linear2(linear1(x).silu()) }
}

/// diffusers `ResnetBlock2D` (output scale 1, no up/down sampling), x [B, in, H, W] -> [B, out, H, W]:
///   h = conv1(SiLU(norm1(x))) + time_emb_proj(SiLU(temb))[:, :, None, None]
///   h = conv2(SiLU(norm2(h)))            (dropout 0)
///   y = shortcut(x) + h                  shortcut = conv_shortcut (1x1) when in != out, else identity
/// Keys: `norm1` GroupNorm(groups(in), in), `conv1` [out, in, 3, 3], `time_emb_proj` [out, temb],
/// `norm2` GroupNorm(groups(out), out), `conv2` [out, out, 3, 3], optional `conv_shortcut` [out, in, 1, 1].
/// With `timeEmbedDim` nil (diffusers `temb_channels=None`, the autoencoder's blocks) there is no
/// `time_emb_proj` and no time term.
public final class ResnetBlock2D: Module {
    public let norm1: GroupNorm
    public let conv1: Conv2d
    public let timeEmbProj: Linear?
    public let norm2: GroupNorm
    public let conv2: Conv2d
    public let convShortcut: Conv2d?

    public init(inChannels: Int, outChannels: Int, timeEmbedDim: Int?, eps: Float, key: RNGKey) {
        norm1 = GroupNorm(groups: UNetConfig.groups(for: inChannels), channels: inChannels, eps: eps)
        conv1 = Conv2d(inChannels, outChannels, kernelSize: 3, padding: 1, key: key.fold(in: "conv1"))
        timeEmbProj = timeEmbedDim.map { Linear($0, outChannels, key: key.fold(in: "time_emb_proj")) }
        norm2 = GroupNorm(groups: UNetConfig.groups(for: outChannels), channels: outChannels, eps: eps)
        conv2 = Conv2d(outChannels, outChannels, kernelSize: 3, padding: 1, key: key.fold(in: "conv2"))
        convShortcut = inChannels == outChannels
            ? nil : Conv2d(inChannels, outChannels, kernelSize: 1, key: key.fold(in: "conv_shortcut"))
    }

    public var children: [(String, any Module)] {
        var c: [(String, any Module)] = [("norm1", norm1), ("conv1", conv1)]
        if let timeEmbProj { c.append(("time_emb_proj", timeEmbProj)) }
        c += [("norm2", norm2), ("conv2", conv2)]
        if let convShortcut { c.append(("conv_shortcut", convShortcut)) }
        return c
    }

    /// x [B, in, H, W], temb [B, timeEmbedDim] (already the time embedding's output; SiLU applied here),
    /// nil for a block without a time embedding.
    public func callAsFunction(_ x: Variable, temb: Variable?) -> Variable {
        var h = conv1(norm1.normAndSiLU(x))
        if let timeEmbProj, let temb {
            let t = timeEmbProj(temb.silu())
            h = h + t.reshaped([t.shape[0], t.shape[1], 1, 1])
        }
        h = conv2(norm2.normAndSiLU(h))
        return (convShortcut.map { $0(x) } ?? x) + h
    }
}

/// diffusers `Downsample2D` with a conv: `conv` 3x3, stride 2, padding 1, [B, C, H, W] -> [B, C, H/2, W/2].
public final class Downsample2D: Module {
    public let conv: Conv2d
    public init(channels: Int, key: RNGKey) {
        conv = Conv2d(channels, channels, kernelSize: 3, stride: 2, padding: 1, key: key.fold(in: "conv"))
    }
    public var children: [(String, any Module)] { [("conv", conv)] }
    public func callAsFunction(_ x: Variable) -> Variable { conv(x) }
}

/// diffusers `Upsample2D` with a conv: nearest x2 then `conv` 3x3 padding 1, [B, C, H, W] -> [B, C, 2H, 2W].
public final class Upsample2D: Module {
    public let conv: Conv2d
    public init(channels: Int, key: RNGKey) {
        conv = Conv2d(channels, channels, kernelSize: 3, padding: 1, key: key.fold(in: "conv"))
    }
    public var children: [(String, any Module)] { [("conv", conv)] }
    public func callAsFunction(_ x: Variable) -> Variable { conv(x.upsampleNearest(factor: 2)) }
}
