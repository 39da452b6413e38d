import Autograd
import NN
import Random
import TensorCore

/// Shape of a small ResNet image tower (He et al. 2016, the CIFAR layout) for world images:
/// a 3x3 stem to `widths[0]`, then one stage per width, each `blocks[i]` basic blocks; every stage
/// after the first halves the resolution in its first block (stride-2 conv, 1x1 stride-2 shortcut).
/// GroupNorm (`groups` groups) instead of BatchNorm, so a forward does not depend on the batch.
public struct ResNetConfig: Codable, Sendable, Equatable {
    public var imageSize: Int
    public var widths: [Int]
    public var blocks: [Int]
    public var groups: Int

    /// The judge tower: 32x32, widths 32-64-128-256, one block per stage (1.2M parameters).
    public init(imageSize: Int = 32, widths: [Int] = [32, 64, 128, 256], blocks: [Int] = [1, 1, 1, 1], groups: Int = 8) {
        self.imageSize = imageSize; self.widths = widths; self.blocks = blocks; self.groups = groups
    }

    /// Tiny tower for tests.
    public static let xs = ResNetConfig(imageSize: 16, widths: [8, 16], blocks: [1, 1], groups: 4)

    /// Channels of the pooled feature (the last width).
    public var featureWidth: Int { widths.last ?? 0 }
    /// Side of the last feature map.
    public var featureSide: Int { imageSize >> max(0, widths.count - 1) }

    public func validate() throws(EncoderError) {
        try require(!widths.isEmpty && widths.count == blocks.count, "ResNet", "blocks", blocks.count,
                    "must list one block count per width (\(widths.count) widths)")
        try require(groups > 0, "ResNet", "groups", groups, "must be positive")
        try require(widths.allSatisfy { $0 > 0 && $0 % groups == 0 }, "ResNet", "widths", widths.first ?? 0,
                    "every width must be a positive multiple of groups (\(groups))")
        try require(blocks.allSatisfy { $0 >= 1 }, "ResNet", "blocks", blocks.min() ?? 0, "every stage needs at least one block")
        // Divisible by 2^(stages - 1) as a count of trailing zero bits: 1 << 64 would be 0 (a division by zero).
        try require(imageSize > 0 && imageSize.trailingZeroBitCount >= widths.count - 1, "ResNet", "imageSize", imageSize,
                    "must be divisible by 2^(stages - 1) = \(widths.count <= 62 ? "\(1 << (widths.count - 1))" : "2^\(widths.count - 1)")")
    }
}

/// Basic block: y = silu(x' + GN2(conv2(silu(GN1(conv1(x)))))), x' = x or GN_s(conv_s(x)) when the
/// shape changes. GN2's scale starts at 0 (Goyal et al. 2017), so every block starts as the identity.
/// Keys: `conv1`, `norm1`, `conv2`, `norm2`, `shortcut.conv`, `shortcut.norm` (as timm's `downsample.0/1`).
public final class ResNetBlock: Module {
    public let conv1: Conv2d, norm1: GroupNorm, conv2: Conv2d, norm2: GroupNorm
    public let shortcutConv: Conv2d?, shortcutNorm: GroupNorm?

    public init(_ inC: Int, _ outC: Int, stride: Int, groups: Int, key: RNGKey) {
        conv1 = Conv2d(inC, outC, kernelSize: 3, stride: stride, padding: 1, bias: false, key: key.fold(in: "conv1"))
        norm1 = GroupNorm(groups: groups, channels: outC)
        conv2 = Conv2d(outC, outC, kernelSize: 3, padding: 1, bias: false, key: key.fold(in: "conv2"))
        norm2 = GroupNorm(groups: groups, channels: outC)
        norm2.weight!.value = Tensor(zeros: [outC])
        if stride != 1 || inC != outC {
            shortcutConv = Conv2d(inC, outC, kernelSize: 1, stride: stride, bias: false, key: key.fold(in: "shortcut"))
            shortcutNorm = GroupNorm(groups: groups, channels: outC)
        } else {
            shortcutConv = nil; shortcutNorm = nil
        }
    }

    public var children: [(String, any Module)] {
        var c: [(String, any Module)] = [("conv1", conv1), ("norm1", norm1), ("conv2", conv2), ("norm2", norm2)]
        if let shortcutConv, let shortcutNorm { c += [("shortcut.conv", shortcutConv), ("shortcut.norm", shortcutNorm)] }
        return c
    }

    public func callAsFunction(_ x: Variable) -> Variable {
        let h = norm2(conv2(norm1.normAndSiLU(conv1(x))))
        let s = shortcutConv.map { shortcutNorm!($0(x)) } ?? x
        return (h + s).silu()
    }
}

/// The tower: `stem.conv` (3x3, no bias) + `stem.norm` + SiLU, then `stages.<i>.<j>` blocks.
/// `features(x)` is the last map [B, C, S', S']; `pooled(x)` its global mean [B, C].
public final class ResNet: Module {
    public let config: ResNetConfig
    public let stemConv: Conv2d
    public let stemNorm: GroupNorm
    public let stages: [ModuleList<ResNetBlock>]

    public init(config: ResNetConfig, key: RNGKey) throws(EncoderError) {
        try config.validate()
        self.config = config
        stemConv = Conv2d(3, config.widths[0], kernelSize: 3, padding: 1, bias: false, key: key.fold(in: "stem"))
        stemNorm = GroupNorm(groups: config.groups, channels: config.widths[0])
        var stages: [ModuleList<ResNetBlock>] = []
        var inC = config.widths[0]
        for (i, w) in config.widths.enumerated() {
            var blocks: [ResNetBlock] = []
            for j in 0..<config.blocks[i] {
                blocks.append(ResNetBlock(inC, w, stride: i > 0 && j == 0 ? 2 : 1, groups: config.groups,
                                          key: key.fold(in: "stage").fold(in: UInt64(i)).fold(in: UInt64(j))))
                inC = w
            }
            stages.append(ModuleList(blocks))
        }
        self.stages = stages
    }

    public var children: [(String, any Module)] {
        [("stem.conv", stemConv), ("stem.norm", stemNorm)] + stages.enumerated().map { ("stages.\($0.offset)", $0.element) }
    }

    /// The last feature map [B, C, S', S'] of images [B, 3, S, S] in [-1, 1].
    public func features(_ x: Variable) -> Variable {
        precondition(x.shape.count == 4 && x.shape[1] == 3 && x.shape[2] == config.imageSize && x.shape[3] == config.imageSize,
                     "ResNet: input \(x.shape), want [B, 3, \(config.imageSize), \(config.imageSize)]")
        var h = stemNorm.normAndSiLU(stemConv(x))
        for stage in stages { for block in stage.items { h = block(h) } }
        return h
    }

    /// Global average of `features`, [B, C].
    public func pooled(_ x: Variable) -> Variable { features(x).mean(axes: [2, 3]) }
}
