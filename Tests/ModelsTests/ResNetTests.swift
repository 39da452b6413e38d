import Autograd
import Foundation
import Checkpoint
import Models
import NN
import Random
import Testing
import TensorCore
import TestSupport

private func randomTensor(_ seed: UInt64, _ shape: [Int]) -> Tensor {
    var r = TestRNG(seed: seed)
    return r.tensor(shape)
}

@Suite struct ResNetTests {
    @Test func keysFollowTheStageBlockLayoutWithShortcutsOnlyWhereTheShapeChanges() throws {
        let net = try ResNet(config: .xs, key: RNGKey(seed: 1))
        let keys = net.namedParameters().map(\.0)
        #expect(keys == [
            "stem.conv.weight", "stem.norm.weight", "stem.norm.bias",
            "stages.0.0.conv1.weight", "stages.0.0.norm1.weight", "stages.0.0.norm1.bias",
            "stages.0.0.conv2.weight", "stages.0.0.norm2.weight", "stages.0.0.norm2.bias",
            "stages.1.0.conv1.weight", "stages.1.0.norm1.weight", "stages.1.0.norm1.bias",
            "stages.1.0.conv2.weight", "stages.1.0.norm2.weight", "stages.1.0.norm2.bias",
            "stages.1.0.shortcut.conv.weight", "stages.1.0.shortcut.norm.weight", "stages.1.0.shortcut.norm.bias",
        ])
        #expect(net.stages[1].items[0].conv1.weight.shape == [16, 8, 3, 3] && net.stages[1].items[0].conv1.stride == 2)
    }

    @Test func theDefaultTowerHasTheJudgeSizeAndHalvesPerStage() throws {
        let net = try ResNet(config: ResNetConfig(), key: RNGKey(seed: 2))
        #expect(net.parameterCount == 1_226_400, "\(net.parameterCount)")
        let x = Variable(randomTensor(3, [2, 3, 32, 32]))
        #expect(withNoGrad { net.features(x) }.shape == [2, 256, 4, 4])
        #expect(withNoGrad { net.pooled(x) }.shape == [2, 256])
    }

    @Test func aBlockStartsAsTheIdentityOfItsShortcut() throws {
        // norm2's scale starts at 0: y = silu(shortcut(x)) exactly, = silu(x) when the shape is kept.
        let block = ResNetBlock(8, 8, stride: 1, groups: 4, key: RNGKey(seed: 4))
        let x = randomTensor(5, [2, 8, 6, 6])
        let y = withNoGrad { block(Variable(x)) }.value
        let want = withNoGrad { Variable(x).silu() }.value
        #expect(y.scalars == want.scalars)
    }

    @Test func blockGradientsMatchFiniteDifferences() throws {
        // Non-zero norm2 scale so every parameter matters; a downsampling block (stride 2, 1x1 shortcut).
        let block = ResNetBlock(4, 8, stride: 2, groups: 2, key: RNGKey(seed: 6))
        block.norm2.weight!.value = randomTensor(7, [8])
        let checks = moduleGradCheck(block, inputs: [randomTensor(8, [2, 4, 6, 6])], h: 1e-2, rtol: 2e-2, atol: 1e-4) { x in block(x[0]) }
        #expect(checks == block.namedParameters().count + 1)
    }

    @Test func badShapesAreConfigErrorsNamingTheField() {
        #expect(throws: EncoderError.self) { _ = try ResNet(config: ResNetConfig(imageSize: 32, widths: [8, 16], blocks: [1], groups: 4),
                                                            key: RNGKey(seed: 0)) }
        #expect(throws: EncoderError.self) { _ = try ResNet(config: ResNetConfig(imageSize: 30, widths: [8, 16, 32], blocks: [1, 1, 1], groups: 4),
                                                            key: RNGKey(seed: 0)) }
        #expect(throws: EncoderError.self) { _ = try ResNet(config: ResNetConfig(imageSize: 32, widths: [6, 16], blocks: [1, 1], groups: 4),
                                                            key: RNGKey(seed: 0)) }
    }

    /// A record's tower (judge, adapter reference encoder) with `groups` 0 made `validate` divide by zero (width % groups),
    /// and with 65 stages its divisibility check took imageSize % (1 << 64), which is % 0: traps on record JSON, found by
    /// the fuzz harness (Tests/Fuzz/corpus/manifest-record/). Both are now config errors naming the field.
    @Test func zeroGroupsOrMoreStagesThanBitsAreConfigErrorsNotTraps() throws {
        #expect(throws: EncoderError.self) { try ResNetConfig(groups: 0).validate() }
        #expect(throws: EncoderError.self) { try ResNetConfig(groups: -8).validate() }
        let deep = ResNetConfig(imageSize: 32, widths: Array(repeating: 8, count: 65), blocks: Array(repeating: 1, count: 65), groups: 4)
        #expect(throws: EncoderError.self) { try deep.validate() }
        // The divisibility rule itself is unchanged: 48 = 3 x 16 holds 5 stages (2^4), not 6 (2^5).
        try ResNetConfig(imageSize: 48, widths: [8, 8, 8, 8, 8], blocks: [1, 1, 1, 1, 1], groups: 4).validate()
        #expect(throws: EncoderError.self) {
            try ResNetConfig(imageSize: 48, widths: [8, 8, 8, 8, 8, 8], blocks: [1, 1, 1, 1, 1, 1], groups: 4).validate()
        }
    }
}

@Suite struct WorldJudgeModelTests {
    static let config = JudgeConfig(tower: .xs, heads: [JudgeHeadSpec(name: "category", classes: 13), JudgeHeadSpec(name: "decal", classes: 8)],
                                    embedDim: 6, clipDim: 5, text: .xs)

    @Test func outputsEveryHeadAndUnitCLIPRowsFromOneTowerPass() throws {
        let j = try WorldJudge(config: Self.config, key: RNGKey(seed: 1))
        let o = withNoGrad { j.forward(Variable(randomTensor(2, [3, 3, 16, 16]))) }
        #expect(o.logits["category"]!.shape == [3, 13] && o.logits["decal"]!.shape == [3, 8])
        #expect(o.embedding.shape == [3, 6] && o.clipImage.shape == [3, 5])
        for r in 0..<3 {
            let n = (0..<5).reduce(Float(0)) { $0 + o.clipImage.value.scalars[r * 5 + $1] * o.clipImage.value.scalars[r * 5 + $1] }
            #expect(abs(n - 1) < 1e-5)
        }
        #expect(withNoGrad { j.textEmbeddings([[2, 5, 3], [2, 3, 0]]) }.shape == [2, 5])
    }

    @Test func keysAreGroupedByRoleAndRoundTripStrictly() throws {
        let j = try WorldJudge(config: Self.config, key: RNGKey(seed: 3))
        let keys = Set(j.namedParameters().map(\.0))
        #expect(keys.contains("tower.stem.conv.weight") && keys.contains("heads.category.weight") && keys.contains("heads.decal.bias"))
        #expect(keys.contains("embedding.weight") && keys.contains("clip.visual_projection.weight") && keys.contains("clip.logit_scale"))
        #expect(keys.contains { $0.hasPrefix("clip.text_model.") } && keys.contains("clip.text_projection.weight"))
        let other = try WorldJudge(config: Self.config, key: RNGKey(seed: 4))
        try other.loadStrict(j.stateDict(), path: "judge.safetensors")
        #expect(other.heads[1].weight.value == j.heads[1].weight.value)
    }

    @Test func readAveragesTheImageAndItsMirrorImage() throws {
        let j = try WorldJudge(config: Self.config, key: RNGKey(seed: 5))
        j.train(false)
        let x = randomTensor(6, [2, 3, 16, 16])
        let m = WorldJudge.mirrored(x)
        #expect(m.scalars[0] == x.scalars[15] && m.scalars[16 + 3] == x.scalars[16 + 12])
        #expect(WorldJudge.mirrored(m).scalars == x.scalars)
        let r = j.read(x)
        let a = withNoGrad { j.forward(Variable(x)) }, b = withNoGrad { j.forward(Variable(m)) }
        for (k, v) in r.logits {
            for (i, y) in v.value.scalars.enumerated() {
                #expect(abs(y - 0.5 * (a.logits[k]!.value.scalars[i] + b.logits[k]!.value.scalars[i])) < 1e-5)
            }
        }
        // The CLIP embedding stays unit-norm; reading a mirror image gives the same verdict.
        for row in 0..<2 {
            let n = (0..<5).reduce(Float(0)) { $0 + r.clipImage.value.scalars[row * 5 + $1] * r.clipImage.value.scalars[row * 5 + $1] }
            #expect(abs(n - 1) < 1e-5)
        }
        let rm = j.read(m)
        for (k, v) in r.logits { for (p, q) in zip(v.value.scalars, rm.logits[k]!.value.scalars) { #expect(abs(p - q) < 1e-5) } }
    }

    @Test func duplicateOrDegenerateHeadsAreRefused() {
        var c = Self.config
        c.heads = [JudgeHeadSpec(name: "a", classes: 2), JudgeHeadSpec(name: "a", classes: 3)]
        #expect(throws: EncoderError.self) { _ = try WorldJudge(config: c, key: RNGKey(seed: 0)) }
        c.heads = [JudgeHeadSpec(name: "a", classes: 1)]
        #expect(throws: EncoderError.self) { _ = try WorldJudge(config: c, key: RNGKey(seed: 0)) }
    }
}

/// The block of scripts/golden_resnet.py (NumPy float64, direct-loop convolution) against the Swift
/// block (Winograd / im2col convolutions, fused GroupNorm+SiLU): outputs within 2e-5 + 1e-4 |y|.
@Suite struct ResNetGoldenTests {
    @Test func aDownsamplingBlockMatchesTheNumPyReference() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/golden_resnet.json")
        let root = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let entries = try #require(root["tensors"] as? [String: [String: Any]], "golden_resnet.json: no tensors; rerun scripts/golden_resnet.py")
        func tensor(_ k: String) throws -> Tensor {
            let e = try #require(entries[k], "golden_resnet.json has no \(k)")
            let shape = try #require(e["shape"] as? [Int]), data = try #require(e["data"] as? [Double])
            return Tensor(shape: shape, scalars: data.map { Float($0) })
        }
        let block = ResNetBlock(4, 8, stride: 2, groups: 4, key: RNGKey(seed: 0))
        var file = SafeTensorsFile()
        for (k, p) in block.namedParameters() { file.tensors[k] = TensorData(shape: p.shape, values: try tensor(k).scalars) }
        try block.loadStrict(file, path: "golden_resnet.json")
        let y = withNoGrad { block(Variable(try! tensor("x"))) }.value, want = try tensor("y")
        #expect(y.shape == want.shape)
        var worst = 0.0
        for (a, e) in zip(y.scalars, want.scalars) {
            let err = abs(Double(a) - Double(e)), tol = 2e-5 + 1e-4 * abs(Double(e))
            worst = max(worst, err / tol)
        }
        #expect(worst <= 1, "worst error / tolerance \(worst)")
    }
}
