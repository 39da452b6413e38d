import Autograd
import NN
import Random
import TensorCore

/// JeDi's inpainting U-Net (Zeng et al. 2024, sec. 3.3 and appendix "Personalization as inpainting"): a
/// `UNet2DConditionModel` whose `conv_in` reads 2c + 1 channels instead of c (c = the sample channels, 3 in
/// pixel space), the concatenation on channels of
///   [ m, x_t, x0 * (1 - m) ]       m = 1 on every pixel of a member to generate, 0 on a known reference
/// (the appendix's order and mask convention: `mask` replicates `ng_mask` over H and W, the clean image is
/// multiplied by 1 - mask). The rest of the network, and its diffusers keys, are the base U-Net's; the
/// self-attention is coupled over the set by `forward(..., setSize:)`.
public enum JeDiUNet {
    /// The base config with `inChannels = 2 * outChannels + 1`.
    public static func config(base: UNetConfig) -> UNetConfig {
        var c = base
        c.inChannels = 2 * base.outChannels + 1
        return c
    }

    /// Whether a U-Net of `config` reads JeDi's inpainting input (`inChannels = 2 * outChannels + 1`).
    public static func readsInpaintingInput(_ config: UNetConfig) -> Bool {
        config.inChannels == 2 * config.outChannels + 1
    }

    /// A JeDi U-Net initialised from `base`: every parameter copied, `conv_in.weight` [c0, 2c + 1, 3, 3]
    /// with the base's [c0, c, 3, 3] in input channels 1 ... c (the noisy image) and zeros in the mask and
    /// clean-image channels, so at initialisation it predicts exactly what `base` predicts on x_t.
    /// `base` must read and predict the same c channels.
    public static func fromBase(_ base: UNet2DConditionModel) throws(UNetError) -> UNet2DConditionModel {
        let c = base.config.outChannels
        guard base.config.inChannels == c else {
            throw .invalidConfig(field: "inChannels", reason: "is \(base.config.inChannels) but outChannels \(c); a JeDi U-Net starts "
                                 + "from a U-Net that reads and predicts the same channels")
        }
        let model = try UNet2DConditionModel(config: config(base: base.config), key: RNGKey(seed: 0))
        let source = Dictionary(uniqueKeysWithValues: base.namedParameters().map { ($0.0, $0.1.value) })
        for (key, p) in model.namedParameters() {
            guard let v = source[key] else { preconditionFailure("JeDiUNet.fromBase: base has no \(key)") }
            if key == "conv_in.weight" {
                p.value = widenedConvIn(v, channels: c)
            } else {
                precondition(v.shape == p.value.shape, "JeDiUNet.fromBase: \(key) \(v.shape) vs \(p.value.shape)")
                p.value = v
            }
        }
        return model
    }

    /// [c0, c, kh, kw] -> [c0, 2c + 1, kh, kw]: input channel 1 + i holds the base's channel i, the others 0.
    static func widenedConvIn(_ w: Tensor, channels c: Int) -> Tensor {
        precondition(w.rank == 4 && w.shape[1] == c, "JeDiUNet: conv_in weight \(w.shape), want [c0, \(c), kh, kw]")
        let c0 = w.shape[0], k = w.shape[2] * w.shape[3]
        var out = Tensor(zeros: [c0, 2 * c + 1, w.shape[2], w.shape[3]])
        for o in 0..<c0 {
            for i in 0..<c {
                let src = (o * c + i) * k, dst = (o * (2 * c + 1) + 1 + i) * k
                for j in 0..<k { out.scalars[dst + j] = w.scalars[src + j] }
            }
        }
        return out
    }

    /// The U-Net input [N, 2c + 1, H, W] of a set's members: noisy x_t [N, c, H, W], clean images [N, c, H, W]
    /// (read only where `known`), `known[n]` = member n is a reference (m = 0, clean image kept) or is to be
    /// generated (m = 1, clean image zeroed). All false is the null image condition of image guidance.
    public static func input(noisy: Tensor, clean: Tensor, known: [Bool]) -> Tensor {
        precondition(noisy.rank == 4 && noisy.shape == clean.shape && known.count == noisy.shape[0],
                     "JeDiUNet.input: noisy \(noisy.shape), clean \(clean.shape), \(known.count) known flags")
        let n = noisy.shape[0], c = noisy.shape[1], plane = noisy.shape[2] * noisy.shape[3], per = c * plane
        var out = Tensor(zeros: [n, 2 * c + 1, noisy.shape[2], noisy.shape[3]])
        for b in 0..<n {
            let base = b * (2 * c + 1) * plane
            if !known[b] { for j in 0..<plane { out.scalars[base + j] = 1 } }
            for j in 0..<per {
                out.scalars[base + plane + j] = noisy.scalars[b * per + j]
                if known[b] { out.scalars[base + plane + per + j] = clean.scalars[b * per + j] }
            }
        }
        return out
    }
}
