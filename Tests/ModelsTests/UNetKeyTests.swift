import Autograd
import Foundation
import Models
import NN
import Random
import Testing

/// The parameter keys and shapes, in PyTorch registration order, against the literal lists in
/// Tests/Fixtures (written by scripts/golden_unet.py from its own diffusers/IP-Adapter table).
struct UNetKeyTests {
    func compare(_ module: some Module, _ fixture: String) throws {
        let expected = try UNetFixtures.keyList(fixture)
        let actual = module.namedParameters().map { ($0.0, $0.1.shape) }
        #expect(actual.count == expected.count, "\(fixture): \(actual.count) parameters, want \(expected.count)")
        for (i, (a, e)) in zip(actual, expected).enumerated() where a.0 != e.0 || a.1 != e.1 {
            Issue.record("\(fixture) line \(i + 1): got \(a.0) \(a.1), want \(e.0) \(e.1)")
            return
        }
    }

    @Test func standardUNetKeysAndShapes() throws {
        try compare(UNet2DConditionModel(config: .standard, key: RNGKey(seed: 1)), "unet_keys_standard.txt")
    }

    @Test func xsUNetKeysAndShapes() throws {
        try compare(UNet2DConditionModel(config: .xs, key: RNGKey(seed: 1)), "unet_keys_xs.txt")
    }

    /// diffusers registers `class_embedding` right after `time_embedding` (class_embed_type "projection").
    @Test func classEmbeddingKeysFollowTheTimeEmbedding() throws {
        var config = UNetConfig.standard
        config.classEmbedInputDim = config.crossAttentionDim
        let with = try UNet2DConditionModel(config: config, key: RNGKey(seed: 1)).namedParameters().map { ($0.0, $0.1.shape) }
        let without = try UNet2DConditionModel(config: .standard, key: RNGKey(seed: 1)).namedParameters().map { ($0.0, $0.1.shape) }
        let at = try #require(without.firstIndex { $0.0 == "time_embedding.linear_2.bias" }) + 1
        let added: [(String, [Int])] = [("class_embedding.linear_1.weight", [256, 128]), ("class_embedding.linear_1.bias", [256]),
                                        ("class_embedding.linear_2.weight", [256, 256]), ("class_embedding.linear_2.bias", [256])]
        let expected = Array(without[..<at]) + added + Array(without[at...])
        #expect(with.map(\.0) == expected.map(\.0))
        #expect(with.map(\.1) == expected.map(\.1))
        config.classEmbedInputDim = 64
        #expect(throws: UNetError.self) { try UNet2DConditionModel(config: config, key: RNGKey(seed: 1)) }
    }

    @Test func standardResamplerKeysAndShapes() throws {
        try compare(Resampler(config: .standard, key: RNGKey(seed: 1)), "resampler_keys_standard.txt")
    }

    @Test func adapterParametersAreResamplerAndImageProjectionsOnly() throws {
        let unet = try UNet2DConditionModel(config: .xs, key: RNGKey(seed: 2))
        let resampler = try Resampler(config: .xs, key: RNGKey(seed: 3))
        let trainable = adapterParameters(unet: unet, resampler: resampler)
        // 11 transformers (4 down, 1 mid, 6 up) x (to_k_ip, to_v_ip).
        let ip = trainable.filter { !$0.0.hasPrefix("image_proj.") }
        #expect(ip.count == 22)
        #expect(ip.allSatisfy { $0.0.hasSuffix("attn2.to_k_ip.weight") || $0.0.hasSuffix("attn2.to_v_ip.weight") })
        #expect(trainable.count == 22 + resampler.namedParameters().count)
        #expect(unet.trainableParameters().map(\.0) == ip.map(\.0))
        #expect(resampler.trainableParameters().count == resampler.namedParameters().count)
        #expect(Set(trainable.map(\.0)).count == trainable.count, "keys must be unique for the optimizer")
    }

    @Test func imageBranchCanStartFromTheTextProjections() throws {
        let unet = try UNet2DConditionModel(config: .xs, key: RNGKey(seed: 4))
        let attns = unet.crossAttentions
        #expect(attns.count == 11)
        #expect(attns.allSatisfy { $0.toKIP.weight.value != $0.base.toK.weight.value })
        for a in attns { a.initImageBranchFromText() }
        #expect(attns.allSatisfy { $0.toKIP.weight.value == $0.base.toK.weight.value && $0.toVIP.weight.value == $0.base.toV.weight.value })
    }

    @Test func badConfigsAndInputsGiveTypedErrors() throws {
        #expect(throws: UNetError.self) { try UNet2DConditionModel(config: UNetConfig(blockOutChannels: []), key: RNGKey(seed: 0)) }
        #expect(throws: UNetError.self) { try UNet2DConditionModel(config: UNetConfig(blockOutChannels: [30, 64]), key: RNGKey(seed: 0)) }
        #expect(throws: UNetError.self) { try Resampler(config: ResamplerConfig(depth: 0), key: RNGKey(seed: 0)) }
        let unet = try UNet2DConditionModel(config: .xs, key: RNGKey(seed: 0))
        do {
            try unet.validateInputs(x: [2, 3, 30, 32], timesteps: 2, text: [2, 12, 128], imageTokens: nil)
            Issue.record("30x32 is not a multiple of 4")
        } catch {
            #expect(error.description.contains("x") && error.description.contains("multiples of 4"))
        }
        #expect(throws: UNetError.self) { try unet.validateInputs(x: [2, 3, 32, 32], timesteps: 1, text: [2, 12, 128], imageTokens: nil) }
        #expect(throws: UNetError.self) { try unet.validateInputs(x: [2, 3, 32, 32], timesteps: 2, text: [2, 12, 64], imageTokens: nil) }
        #expect(throws: UNetError.self) { try unet.validateInputs(x: [2, 3, 32, 32], timesteps: 2, text: [2, 12, 128], imageTokens: [2, 8, 32]) }
        try unet.validateInputs(x: [2, 3, 32, 32], timesteps: 2, text: [2, 12, 128], imageTokens: [2, 8, 128])
    }

    /// `heads` 0 in a record's U-Net config made `validate` divide by zero (width % heads) before it checked heads: a trap
    /// on record JSON found by the fuzz harness (Tests/Fuzz/corpus/manifest-record/); now a config error.
    @Test func zeroHeadsIsAConfigErrorNotADivisionByZero() {
        #expect(throws: UNetError.invalidConfig(field: "heads/crossAttentionDim/inChannels/outChannels", reason: "must all be positive")) {
            try UNetConfig(heads: 0).validate()
        }
    }

    @Test func configsRoundTripThroughJSON() throws {
        let u = try JSONDecoder().decode(UNetConfig.self, from: JSONEncoder().encode(UNetConfig.xs))
        #expect(u == .xs && u.blockOutChannels == [32, 64, 64])
        let r = try JSONDecoder().decode(ResamplerConfig.self, from: JSONEncoder().encode(ResamplerConfig.standard))
        #expect(r == .standard)
    }
}

/// `UNetConfig.fullResolutionCrossAttention`: level 0 gets cross-attention transformers (no `norm1`/`attn1`).
@Suite struct FullResolutionCrossAttentionKeyTests {
    @Test func levelZeroGetsCrossAttentionBlocksOnly() throws {
        var config = UNetConfig.xs
        config.fullResolutionCrossAttention = true
        let with = Dictionary(uniqueKeysWithValues: try UNet2DConditionModel(config: config, key: RNGKey(seed: 1)).namedParameters().map { ($0.0, $0.1.shape) })
        let without = Dictionary(uniqueKeysWithValues: try UNet2DConditionModel(config: .xs, key: RNGKey(seed: 1)).namedParameters().map { ($0.0, $0.1.shape) })
        // Every key of the plain network is kept with its shape; the new ones are level 0's (down block 0, up block 2).
        #expect(without.allSatisfy { with[$0.key] == $0.value })
        let added = Set(with.keys).subtracting(without.keys)
        #expect(added.allSatisfy { $0.hasPrefix("down_blocks.0.attentions.") || $0.hasPrefix("up_blocks.2.attentions.") }, "\(added.sorted())")
        // Two down transformers (layersPerBlock 2), three up (layers + 1), each without self-attention.
        for block in ["down_blocks.0.attentions.0", "down_blocks.0.attentions.1", "up_blocks.2.attentions.0", "up_blocks.2.attentions.2"] {
            #expect(with["\(block).proj_out.weight"] == [32, 32])
            #expect(with["\(block).transformer_blocks.0.attn2.to_k_ip.weight"] == [32, 128])
            #expect(with["\(block).transformer_blocks.0.attn1.to_q.weight"] == nil && with["\(block).transformer_blocks.0.norm1.weight"] == nil)
        }
        #expect(with["up_blocks.2.attentions.3.proj_out.weight"] == nil && with["down_blocks.0.attentions.2.proj_out.weight"] == nil)
        // Deeper levels keep their self-attention.
        #expect(with["down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q.weight"] != nil)
    }

    /// `fullResolutionSelfAttention` gives those blocks `norm1` and `attn1` as at the deeper levels; alone it adds nothing,
    /// and a record without the field decodes as nil.
    @Test func selfAttentionAtLevelZeroAddsNorm1AndAttn1() throws {
        var config = UNetConfig.xs
        config.fullResolutionCrossAttention = true
        config.fullResolutionSelfAttention = true
        let keys = Dictionary(uniqueKeysWithValues: try UNet2DConditionModel(config: config, key: RNGKey(seed: 1)).namedParameters().map { ($0.0, $0.1.shape) })
        for block in ["down_blocks.0.attentions.0", "down_blocks.0.attentions.1", "up_blocks.2.attentions.0", "up_blocks.2.attentions.2"] {
            #expect(keys["\(block).transformer_blocks.0.attn1.to_q.weight"] == [32, 32])
            #expect(keys["\(block).transformer_blocks.0.norm1.weight"] == [32])
        }
        var alone = UNetConfig.xs
        alone.fullResolutionSelfAttention = true
        #expect(!alone.hasSelfAttention(level: 0) && !alone.hasAttention(level: 0))
        let plainKeys = Set(try UNet2DConditionModel(config: alone, key: RNGKey(seed: 1)).namedParameters().map(\.0))
        #expect(plainKeys == Set(try UNet2DConditionModel(config: .xs, key: RNGKey(seed: 1)).namedParameters().map(\.0)))
        let decoded = try JSONDecoder().decode(UNetConfig.self, from: JSONEncoder().encode(UNetConfig.xs))
        #expect(decoded.fullResolutionSelfAttention == nil && decoded == .xs)
    }
}
