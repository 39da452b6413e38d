import Foundation
import Testing
import Random
import TensorCore
import Checkpoint
import Autograd
import NN

/// A two-level module to exercise nested keys: `proj.weight`, `blocks.0.attn.to_q.weight`, ...
final class TinyNet: Module {
    let proj: Conv2d
    let blocks: ModuleList<TinyBlock>
    init(key: RNGKey) {
        proj = Conv2d(3, 4, kernelSize: 3, padding: 1, key: key.fold(in: "proj"))
        blocks = ModuleList((0..<2).map { TinyBlock(key: key.fold(in: "blocks.\($0)")) })
    }
    var children: [(String, any Module)] { [("proj", proj), ("blocks", blocks)] }
}

final class TinyBlock: Module {
    let norm = LayerNorm(4)
    let attn: Attention
    init(key: RNGKey) { attn = Attention(queryDim: 4, heads: 2, headDim: 2, key: key.fold(in: "attn")) }
    var children: [(String, any Module)] { [("norm", norm), ("attn", attn)] }
}

@Suite struct StateDictTests {
    func tempURL(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("nn-\(UUID().uuidString)-\(name)")
    }

    @Test func nestedKeysInPyTorchOrder() {
        let keys = TinyNet(key: RNGKey(seed: 1)).namedParameters().map(\.0)
        #expect(keys.prefix(6) == ["proj.weight", "proj.bias", "blocks.0.norm.weight", "blocks.0.norm.bias",
                                   "blocks.0.attn.to_q.weight", "blocks.0.attn.to_k.weight"])
        #expect(keys.last == "blocks.1.attn.to_out.0.bias")
        #expect(keys.count == 2 + 2 * (2 + 5))
        #expect(Set(keys).count == keys.count)
    }

    @Test func roundTripThroughSafetensorsFile() throws {
        let a = TinyNet(key: RNGKey(seed: 1)), b = TinyNet(key: RNGKey(seed: 2))
        #expect(a.parameters.map(\.value) != b.parameters.map(\.value))
        let url = tempURL("tiny.safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try a.save(to: url, metadata: ["step": "7"])
        let meta = try b.load(from: url)
        #expect(meta["step"] == "7")
        for ((ka, pa), (kb, pb)) in zip(a.namedParameters(), b.namedParameters()) {
            #expect(ka == kb && pa.value == pb.value, "\(ka)")
        }
    }

    @Test func missingUnexpectedAndWrongShapeAreErrorsNamingTheKey() {
        let net = TinyNet(key: RNGKey(seed: 1))
        let before = net.parameters.map(\.value)

        var missing = net.stateDict()
        missing.tensors["blocks.1.attn.to_v.weight"] = nil
        #expect(throws: CheckpointError.missingKey(path: "m.st", key: "blocks.1.attn.to_v.weight", expectedShape: [4, 4])) {
            try net.loadStrict(missing, path: "m.st")
        }

        var extra = net.stateDict()
        extra.tensors["blocks.2.norm.weight"] = TensorData(shape: [4], values: [0, 0, 0, 0])
        #expect(throws: CheckpointError.unexpectedKey(path: "e.st", key: "blocks.2.norm.weight", shape: [4])) {
            try net.loadStrict(extra, path: "e.st")
        }

        var wrong = TinyNet(key: RNGKey(seed: 9)).stateDict()
        wrong.tensors["proj.weight"] = TensorData(shape: [4, 3, 1, 1], values: [Float](repeating: 0, count: 12))
        do {
            try net.loadStrict(wrong, path: "w.st")
            Issue.record("wrong shape loaded")
        } catch {
            let text = error.description
            #expect(text.contains("proj.weight") && text.contains("[4, 3, 3, 3]") && text.contains("[4, 3, 1, 1]"), "\(text)")
        }
        // A failed load modifies nothing (all checks run before any assignment).
        #expect(net.parameters.map(\.value) == before)
    }

    /// Every layer type on its own: save with one seed, load into another, values identical.
    @Test(arguments: ["linear", "conv2d", "groupnorm", "layernorm", "embedding", "attention", "cross-attention"])
    func eachLayerRoundTrips(_ kind: String) throws {
        func make(_ seed: UInt64) -> any Module {
            let key = RNGKey(seed: seed)
            switch kind {
            case "linear": return Linear(3, 2, key: key)
            case "conv2d": return Conv2d(2, 3, kernelSize: 3, key: key)
            case "groupnorm":
                let g = GroupNorm(groups: 2, channels: 4)
                g.weight!.value = Tensor(shape: [4], scalars: (0..<4).map { Float(seed) + Float($0) })
                return g
            case "layernorm":
                let l = LayerNorm(3)
                l.bias!.value = Tensor(shape: [3], scalars: [Float(seed), 0, 1])
                return l
            case "embedding": return Embedding(5, 2, key: key)
            case "attention": return Attention(queryDim: 4, heads: 2, headDim: 2, key: key)
            default: return Attention(queryDim: 4, contextDim: 3, heads: 1, headDim: 2, key: key)
            }
        }
        let a = make(1), b = make(2)
        #expect(a.parameters.map(\.value) != b.parameters.map(\.value))
        let url = tempURL("\(kind).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try a.save(to: url)
        try b.load(from: url)
        #expect(a.namedParameters().map(\.0) == b.namedParameters().map(\.0))
        #expect(a.parameters.map(\.value) == b.parameters.map(\.value))
    }

    @Test func loadingAFileThatIsNotThereNamesThePath() {
        let url = tempURL("absent.safetensors")
        do {
            try TinyNet(key: RNGKey(seed: 1)).load(from: url)
            Issue.record("loaded a missing file")
        } catch {
            #expect(error.description.contains(url.lastPathComponent))
        }
    }
}
