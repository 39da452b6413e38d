import Autograd
import NN
import Random
import TensorCore

/// Shape of the foreground segmenter (issue 16: METHODS 2's "configurable foreground estimator" for
/// generated images, which have textured backgrounds and no ground truth): a small fully-convolutional
/// encoder-decoder with skip connections (a U-Net without time or text conditioning), images
/// [B, 3, S, S] in [-1, 1] -> per-pixel object logits [B, 1, S, S]. S must be a multiple of
/// 2^(levels - 1); any such S works (trained at the record's `resolution`).
public struct SegmenterConfig: Codable, Sendable, Equatable {
    public var inChannels: Int
    /// Width of each level, full resolution first; every level after the first halves the side.
    public var channels: [Int]
    public var normEps: Float

    /// The default size: 4 levels (32, 16, 8, 4 px at 32 px), widths 16-32-32-32.
    public init(inChannels: Int = 3, channels: [Int] = [16, 32, 32, 32], normEps: Float = 1e-5) {
        self.inChannels = inChannels; self.channels = channels; self.normEps = normEps
    }

    /// Tiny preset for tests: 2 levels, widths 8 and 16.
    public static let xs = SegmenterConfig(channels: [8, 16])

    /// Image side / side of the deepest level.
    public var downsampleFactor: Int { 1 << (channels.count - 1) }

    /// Checks the config describes a buildable network; the error names the field.
    public func validate() throws(EncoderError) {
        try require(!channels.isEmpty && channels.count <= 6, "Segmenter", "channels", channels.count, "needs 1 to 6 levels")
        try require(channels.allSatisfy { $0 >= 4 && $0 % UNetConfig.groups(for: $0) == 0 }, "Segmenter", "channels",
                    channels.first ?? 0, "every width must be >= 4 and divisible by its GroupNorm groups (width / 2, at most 32)")
        for i in 0..<max(0, channels.count - 1) {
            let (joined, overflow) = channels[i].addingReportingOverflow(channels[i + 1])
            try require(!overflow && joined % UNetConfig.groups(for: joined) == 0, "Segmenter", "channels", "\(channels[i]) + \(channels[i + 1])",
                        "a decoder level reads its skip and the level below concatenated; their sum must be divisible by its GroupNorm groups")
        }
        try require(inChannels >= 1, "Segmenter", "inChannels", inChannels, "must be positive")
        try require(normEps.isFinite && normEps > 0, "Segmenter", "normEps", normEps, "must be finite and positive")
    }
}

/// One encoder level (`down_blocks.i`: `resnets.0`, and `downsamplers.0` but for the deepest), the middle
/// (`mid_block`: `resnets.0`) or a decoder level (`up_blocks.j`: `resnets.0` reading the nearest-x2
/// upsampled map concatenated with the skip).
final class SegmenterLevel: Module {
    let resnet: ResnetBlock2D
    let down: Downsample2D?

    init(inChannels: Int, outChannels: Int, downsample: Bool, eps: Float, key: RNGKey) {
        resnet = ResnetBlock2D(inChannels: inChannels, outChannels: outChannels, timeEmbedDim: nil, eps: eps,
                               key: key.fold(in: "resnets").fold(in: 0))
        down = downsample ? Downsample2D(channels: outChannels, key: key.fold(in: "downsamplers")) : nil
    }

    var children: [(String, any Module)] {
        var c: [(String, any Module)] = [("resnets", ModuleList([resnet]))]
        if let down { c.append(("downsamplers", ModuleList([down]))) }
        return c
    }
}

/// The segmenter, keys in diffusers' `UNet2DModel` style:
/// `conv_in` 3x3 -> `down_blocks.i` (a ResnetBlock2D without time embedding, then a stride-2 conv but at
/// the deepest level; the map before downsampling is level i's skip) -> `mid_block.resnets.0` ->
/// `up_blocks.j` (j = 0 is the deepest skip: nearest x2, concatenate [h, skip_i] on channels, a
/// ResnetBlock2D to width i) -> `conv_norm_out` GroupNorm, SiLU -> `conv_out` 3x3 to 1 channel (logits).
/// Deviation from diffusers: upsampling has no conv (the resnet after the concatenation mixes), to keep
/// the weights small. Initialisation: the layers' defaults; `conv_out` bias 0 (p = 0.5 everywhere).
public final class Segmenter: Module {
    public let config: SegmenterConfig
    public let convIn: Conv2d
    let downLevels: [SegmenterLevel]
    let mid: SegmenterLevel
    let upLevels: [SegmenterLevel]
    public let normOut: GroupNorm
    public let convOut: Conv2d

    public init(config: SegmenterConfig, key: RNGKey) throws(EncoderError) {
        try config.validate()
        self.config = config
        let w = config.channels, eps = config.normEps
        convIn = Conv2d(config.inChannels, w[0], kernelSize: 3, padding: 1, key: key.fold(in: "conv_in"))
        downLevels = w.indices.map { i in
            SegmenterLevel(inChannels: i == 0 ? w[0] : w[i - 1], outChannels: w[i], downsample: i < w.count - 1, eps: eps,
                           key: key.fold(in: "down_blocks").fold(in: UInt64(i)))
        }
        mid = SegmenterLevel(inChannels: w[w.count - 1], outChannels: w[w.count - 1], downsample: false, eps: eps,
                             key: key.fold(in: "mid_block"))
        upLevels = (0..<(w.count - 1)).map { j in
            let i = w.count - 2 - j
            return SegmenterLevel(inChannels: w[i + 1] + w[i], outChannels: w[i], downsample: false, eps: eps,
                                  key: key.fold(in: "up_blocks").fold(in: UInt64(j)))
        }
        normOut = GroupNorm(groups: UNetConfig.groups(for: w[0]), channels: w[0], eps: eps)
        convOut = Conv2d(w[0], 1, kernelSize: 3, padding: 1, key: key.fold(in: "conv_out"))
        convOut.bias!.value = Tensor(zeros: [1])
    }

    public var children: [(String, any Module)] {
        [("conv_in", convIn), ("down_blocks", ModuleList(downLevels)), ("mid_block", mid),
         ("up_blocks", ModuleList(upLevels)), ("conv_norm_out", normOut), ("conv_out", convOut)]
    }

    /// Object logits [B, 1, S, S] of images x [B, inChannels, S, S] (S a multiple of `downsampleFactor`).
    public func callAsFunction(_ x: Variable) -> Variable {
        let f = config.downsampleFactor
        precondition(x.shape.count == 4 && x.shape[1] == config.inChannels && x.shape[2] % f == 0 && x.shape[3] % f == 0,
                     "Segmenter: input \(x.shape), want [B, \(config.inChannels), S, S] with S a multiple of \(f)")
        var h = convIn(x)
        var skips: [Variable] = []
        for level in downLevels {
            h = level.resnet(h, temb: nil)
            if let down = level.down {
                skips.append(h)
                h = down(h)
            }
        }
        h = mid.resnet(h, temb: nil)
        for level in upLevels {
            h = level.resnet(concat([h.upsampleNearest(factor: 2), skips.removeLast()], axis: 1), temb: nil)
        }
        return convOut(normOut.normAndSiLU(h))
    }

    /// Object probabilities sigmoid(logits) of images [B, 3, S, S] in [-1, 1], no gradient, [B, 1, S, S].
    public func probabilities(_ images: Tensor) -> Tensor {
        withNoGrad { self(Variable(images)).sigmoid() }.value
    }
}
