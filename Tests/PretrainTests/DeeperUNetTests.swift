import Autograd
import Checkpoint
import Foundation
import Models
import NN
import Pretrained
import Random
import TensorCore
import Testing

/// Growing a U-Net deeper (`PretrainedModels.withLayersPerBlock`: new resnets and attention blocks that start as the
/// identity, the up path's resnets shifted to keep their skips), renaming a smaller U-Net's file into the grown layout
/// (`deepen`), and loading an adapter whose tuned U-Net was grown.
@Suite struct DeeperUNetTests {
    static func base(layers: Int = 1) throws -> UNet2DConditionModel {
        var config = UNetConfig.xs
        config.layersPerBlock = layers
        return try UNet2DConditionModel(config: config, key: RNGKey(seed: 5))
    }

    static func file(_ unet: UNet2DConditionModel) -> SafeTensorsFile {
        var file = SafeTensorsFile()
        for (k, p) in unet.namedParameters() { file.tensors[k] = TensorData(shape: p.shape, values: p.value.scalars) }
        return file
    }

    static func worst(_ a: UNet2DConditionModel, _ b: UNet2DConditionModel) -> Float {
        zip(FullResolutionCrossAttentionTests.output(a).scalars, FullResolutionCrossAttentionTests.output(b).scalars)
            .map { abs($0 - $1) }.max() ?? .infinity
    }

    @Test(arguments: [(1, 2), (1, 3), (2, 3)])
    func theDeeperNetworkStartsAsTheBaseOne(from old: Int, to layers: Int) throws {
        let base = try Self.base(layers: old)
        let grown = try PretrainedModels.withLayersPerBlock(base, layers, key: RNGKey(seed: 7))
        #expect(grown.config.layersPerBlock == layers && grown.downBlocks[0].resnets.count == layers)
        #expect(Self.worst(base, grown) == 0, "grown minus base")
        // Every key the grown network has and the renamed base file lacks is under a new block's prefix, and back.
        let prefixes = PretrainedModels.deeperBlockPrefixes(from: old, grown.config)
        var renamed = Self.file(base)
        let shift = layers - old
        renamed.tensors = Dictionary(uniqueKeysWithValues: renamed.tensors.map { k, t in
            for u in 0..<3 { for kind in ["resnets", "attentions"] { for j in stride(from: old, through: 1, by: -1) where k.hasPrefix("up_blocks.\(u).\(kind).\(j).") {
                return (k.replacingOccurrences(of: "up_blocks.\(u).\(kind).\(j).", with: "up_blocks.\(u).\(kind).\(j + shift).", options: .anchored), t)
            } } }
            return (k, t)
        })
        let added = Set(grown.namedParameters().map(\.0)).subtracting(renamed.tensors.keys)
        #expect(!added.isEmpty && added.allSatisfy { k in prefixes.contains(where: k.hasPrefix) })
        #expect(renamed.tensors.keys.allSatisfy { k in !prefixes.contains(where: k.hasPrefix) })
    }

    @Test func theNewBlocksAreInTheForwardPass() throws {
        let base = try Self.base()
        let grown = try PretrainedModels.withLayersPerBlock(base, 2, key: RNGKey(seed: 7))
        let params = Dictionary(uniqueKeysWithValues: grown.namedParameters())
        // The inserted up resnet passes [previous, skip] -> previous: its shortcut is [I | 0].
        let sc = try #require(params["up_blocks.1.resnets.1.conv_shortcut.weight"])
        #expect(sc.shape == [64, 128, 1, 1] && sc.value.scalars[0] == 1 && sc.value.scalars[1] == 0 && sc.value.scalars[128 + 1] == 1
                && sc.value.scalars.reduce(0, +) == 64)
        for k in ["down_blocks.0.resnets.1.conv2.weight", "up_blocks.2.resnets.1.conv2.weight", "down_blocks.1.attentions.1.proj_out.weight"] {
            let p = try #require(params[k], "\(k)")
            #expect(p.value.scalars.allSatisfy { $0 == 0 }, "\(k) starts at zero")
            p.value = Tensor(shape: p.shape, scalars: p.value.scalars.indices.map { Float($0 % 5) * 0.01 })
            #expect(Self.worst(base, grown) > 0, "moving \(k) changes the output")
            p.value = Tensor(zeros: p.shape)
        }
        #expect(try PretrainedModels.withLayersPerBlock(grown, 2, key: RNGKey(seed: 8)) === grown)
        #expect(throws: (any Error).self) { try PretrainedModels.withLayersPerBlock(grown, 1, key: RNGKey(seed: 8)) }
    }

    @Test func aSmallerFileLoadsIntoTheDeeperNetwork() throws {
        let base = try Self.base()
        let grown = try PretrainedModels.withLayersPerBlock(try Self.base(layers: 1), 2, key: RNGKey(seed: 9))
        var file = Self.file(base)
        file.tensors["image_proj.latents"] = TensorData(shape: [1], values: [3])
        #expect(PretrainedModels.layersPerBlock(inFile: file) == 1)
        PretrainedModels.deepen(&file, from: 1, into: grown)
        #expect(PretrainedModels.layersPerBlock(inFile: file) == 2 && file.tensors["image_proj.latents"]?.values == [3])
        file.tensors.removeValue(forKey: "image_proj.latents")
        try grown.loadStrict(file, path: "deepened")
        #expect(Self.worst(base, grown) == 0)
        // A file already in the deeper layout is left as it is.
        let again = file
        PretrainedModels.deepen(&file, from: 1, into: grown)
        #expect(file == again)
        #expect(PretrainedModels.layersPerBlock(inFile: SafeTensorsFile()) == nil)
    }

    @Test func anAdapterRecordWithMoreLayersGrowsTheBase() throws {
        let base = try Self.base()
        let path = URL(fileURLWithPath: "/tmp/adapter.safetensors")
        var record = PretrainRecord(stage: "pretrain-adapter", codeVersion: "t", seed: 1, steps: 1, resolution: 8,
                                    weightsFile: "adapter.safetensors", weightsSHA256: "", training: [:], metrics: [:])
        var deeper = base.config
        deeper.layersPerBlock = 2
        record.unet = deeper
        #expect { try PretrainedModels.unet(base, forAdapter: record, path: path) } throws: { "\($0)".contains("adapterTunesUNet") }
        record.adapterTunesUNet = true
        #expect(try PretrainedModels.unet(base, forAdapter: record, path: path).config == deeper)
        deeper.fullResolutionCrossAttention = true
        record.unet = deeper
        #expect(try PretrainedModels.unet(base, forAdapter: record, path: path).config == deeper, "both growths at once")
        deeper.blockOutChannels = [32, 64, 128]
        record.unet = deeper
        #expect { try PretrainedModels.unet(base, forAdapter: record, path: path) } throws: { "\($0)".contains("differs") }
    }

    /// The up path's concatenations are checked with the widths: [48, 96, 96] passes the per-level check but
    /// concatenates 144 = 96 + 48 channels, which 32 GroupNorm groups do not divide (it trapped in GroupNorm).
    @Test func upPathWidthsAreValidated() throws {
        let u = try Self.base()
        #expect(u.config.upBlockInChannels == [[128, 128], [128, 96], [96, 64]])
        #expect(u.upBlocks.items.map { $0.resnets.items.map { $0.conv1.weight.shape[1] } } == u.config.upBlockInChannels)
        var bad = UNetConfig.xs
        bad.blockOutChannels = [48, 96, 96]
        #expect { try bad.validate() } throws: { e in
            guard case let UNetError.invalidConfig(field, reason) = e else { return false }
            return field == "blockOutChannels" && reason.contains("144")
        }
    }
}
