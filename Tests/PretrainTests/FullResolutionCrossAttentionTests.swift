import Autograd
import Checkpoint
import Foundation
import Models
import NN
import Pretrained
import Random
import TensorCore
import Testing

/// Growing a U-Net by full-resolution cross-attention (`PretrainedModels.withFullResolutionCrossAttention`) and
/// loading an adapter whose tuned U-Net was grown (`PretrainedModels.unet(_:forAdapter:path:)`).
@Suite struct FullResolutionCrossAttentionTests {
    static func base() throws -> UNet2DConditionModel { try UNet2DConditionModel(config: .xs, key: RNGKey(seed: 5)) }

    static func output(_ unet: UNet2DConditionModel) -> Tensor {
        let k = RNGKey(seed: 6)
        let x = Init.normal([2, 3, 8, 8], key: k.fold(in: "x"))
        let text = Init.normal([2, 3, 128], key: k.fold(in: "text"))
        let image = Init.normal([2, 4, 128], key: k.fold(in: "image"))
        return withNoGrad { unet.forward(Variable(x), timesteps: [10, 700], text: Variable(text), imageTokens: Variable(image), ipScale: 1).value }
    }

    @Test func theGrownNetworkStartsAsTheBaseOne() throws {
        let base = try Self.base()
        let grown = try PretrainedModels.withFullResolutionCrossAttention(base, key: RNGKey(seed: 7))
        #expect(grown.config.fullResolutionCrossAttention == true && grown !== base)
        let a = Self.output(base).scalars, b = Self.output(grown).scalars
        let worst = zip(a, b).map { abs($0 - $1) }.max() ?? 0
        #expect(worst == 0, "grown minus base, max abs \(worst)")
        // The new blocks are there, their proj_out zero and the rest of them not.
        let params = Dictionary(uniqueKeysWithValues: grown.namedParameters())
        let outW = try #require(params["up_blocks.2.attentions.1.proj_out.weight"])
        #expect(outW.value.scalars.allSatisfy { $0 == 0 })
        #expect(try #require(params["up_blocks.2.attentions.1.proj_in.weight"]).value.scalars.contains { $0 != 0 })
        // Once proj_out moves, the new path changes the output (the blocks are in the forward pass).
        for (k, p) in grown.namedParameters() where k.hasPrefix("down_blocks.0.attentions.0.proj_out.weight") {
            p.value = Tensor(shape: p.shape, scalars: p.value.scalars.indices.map { Float($0 % 7) * 0.01 })
        }
        #expect(Self.output(grown).scalars != a)
        // Growing a grown network is the identity.
        #expect(try PretrainedModels.withFullResolutionCrossAttention(grown, key: RNGKey(seed: 8)) === grown)
    }

    /// With self-attention the new blocks also start as the identity, in a plain pass and in reference attention's
    /// [reference, image] sets (whose level-0 mask is then built at the input's size), and they carry `attn1`.
    @Test func selfAttentionBlocksStartAsTheBaseNetworkToo() throws {
        let base = try Self.base()
        let grown = try PretrainedModels.withFullResolutionCrossAttention(base, selfAttention: true, key: RNGKey(seed: 7))
        #expect(grown.config.fullResolutionSelfAttention == true && grown.config.fullResolutionCrossAttention == true)
        #expect(Self.output(base).scalars == Self.output(grown).scalars)
        let keys = Set(grown.namedParameters().map(\.0))
        #expect(keys.contains("down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.weight"))
        #expect(keys.contains("up_blocks.2.attentions.1.transformer_blocks.0.norm1.weight"))
        let k = RNGKey(seed: 9)
        let x = Init.normal([4, 3, 8, 8], key: k.fold(in: "x"))
        let text = Init.normal([4, 3, 128], key: k.fold(in: "text"))
        let image = Init.normal([4, 4, 128], key: k.fold(in: "image"))
        let fg = Tensor(shape: [2, 8, 8], scalars: (0..<128).map { Float(($0 / 3) % 2) })
        let mask = ReferenceSetMask(foreground: fg, bias: 0)
        func coupled(_ u: UNet2DConditionModel) -> [Float] {
            withNoGrad { u.forward(Variable(x), timesteps: [0, 500, 0, 500], text: Variable(text), imageTokens: Variable(image), ipScale: 1,
                                   setSize: 2, setMask: mask).value.scalars }
        }
        let before = coupled(base)
        #expect(coupled(grown) == before)
        // Once proj_out moves, level 0's self-attention reads the set: the image rows change.
        for (name, p) in grown.namedParameters() where name.hasSuffix("attentions.0.proj_out.weight") && name.hasPrefix("down_blocks.0.") {
            p.value = Tensor(shape: p.shape, scalars: p.value.scalars.indices.map { Float($0 % 5) * 0.02 })
        }
        #expect(coupled(grown) != before)
        // The other kind of level-0 block cannot grow into this one, nor this into it.
        let cross = try PretrainedModels.withFullResolutionCrossAttention(base, key: RNGKey(seed: 7))
        #expect { try PretrainedModels.withFullResolutionCrossAttention(cross, selfAttention: true, key: RNGKey(seed: 7)) }
            throws: { "\($0)".contains("cross-attention only") }
        #expect { try PretrainedModels.withFullResolutionCrossAttention(grown, key: RNGKey(seed: 7)) } throws: { "\($0)".contains("with self-attention") }
        #expect(try PretrainedModels.withFullResolutionCrossAttention(grown, selfAttention: true, key: RNGKey(seed: 8)) === grown)
        // An adapter record whose U-Net was grown with self-attention makes the loader grow the same.
        var record = PretrainRecord(stage: "pretrain-adapter", codeVersion: "t", seed: 1, steps: 1, resolution: 8,
                                    weightsFile: "adapter.safetensors", weightsSHA256: "", training: [:], metrics: [:])
        record.unet = grown.config
        record.adapterTunesUNet = true
        let loaded = try PretrainedModels.unet(base, forAdapter: record, path: URL(fileURLWithPath: "/tmp/adapter.safetensors"))
        #expect(loaded.config == grown.config)
        #expect(Set(loaded.namedParameters().map(\.0)) == keys)
    }

    @Test func aFileWithoutTheNewBlocksIsCompletedOnlyWhenItHasNoneOfThem() throws {
        let grown = try PretrainedModels.withFullResolutionCrossAttention(try Self.base(), key: RNGKey(seed: 7))
        var file = SafeTensorsFile()
        for (k, p) in try Self.base().namedParameters() { file.tensors[k] = TensorData(shape: p.shape, values: p.value.scalars) }
        var completed = file
        PretrainedModels.completeFullResolutionCrossAttention(&completed, of: grown)
        #expect(Set(completed.tensors.keys) == Set(grown.namedParameters().map(\.0)))
        var partial = file
        partial.tensors["up_blocks.2.attentions.0.proj_in.bias"] = TensorData(shape: [32], values: [Float](repeating: 0, count: 32))
        let before = partial.tensors.count
        PretrainedModels.completeFullResolutionCrossAttention(&partial, of: grown)
        #expect(partial.tensors.count == before)
        #expect(throws: (any Error).self) { try grown.loadStrict(partial, path: "partial") }
        // A plain U-Net gets nothing added.
        var plain = file
        PretrainedModels.completeFullResolutionCrossAttention(&plain, of: try Self.base())
        #expect(plain.tensors.count == file.tensors.count)
    }

    @Test func anAdapterRecordDecidesTheUNetItRunsOn() throws {
        let base = try Self.base()
        let path = URL(fileURLWithPath: "/tmp/adapter.safetensors")
        var record = PretrainRecord(stage: "pretrain-adapter", codeVersion: "t", seed: 1, steps: 1, resolution: 8,
                                    weightsFile: "adapter.safetensors", weightsSHA256: "", training: [:], metrics: [:])
        #expect(try PretrainedModels.unet(base, forAdapter: record, path: path) === base)
        record.unet = base.config
        #expect(try PretrainedModels.unet(base, forAdapter: record, path: path) === base)
        var grown = base.config
        grown.fullResolutionCrossAttention = true
        record.unet = grown
        // Grown but not carrying its U-Net: the new blocks' weights are nowhere.
        #expect { try PretrainedModels.unet(base, forAdapter: record, path: path) } throws: { "\($0)".contains("adapterTunesUNet") }
        record.adapterTunesUNet = true
        let u = try PretrainedModels.unet(base, forAdapter: record, path: path)
        #expect(u.config == grown)
        var other = grown
        other.heads = 2
        record.unet = other
        #expect { try PretrainedModels.unet(base, forAdapter: record, path: path) } throws: { "\($0)".contains("/tmp/adapter.safetensors") && "\($0)".contains("differs") }
    }
}
