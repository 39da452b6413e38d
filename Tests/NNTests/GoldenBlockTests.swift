import Foundation
import Testing
import Random
import TensorCore
import Checkpoint
import Autograd
import NN

/// The block of scripts/golden_block.py, built from NN layers:
/// conv3x3 -> GroupNorm(2) -> SiLU -> self-attention over the H*W tokens (2 heads) -> + x.
final class GoldenBlock: Module {
    let conv: Conv2d
    let norm = GroupNorm(groups: 2, channels: 8, eps: 1e-5)
    let attn: Attention
    init(key: RNGKey) {
        conv = Conv2d(8, 8, kernelSize: 3, padding: 1, key: key.fold(in: "conv"))
        attn = Attention(queryDim: 8, heads: 2, headDim: 4, key: key.fold(in: "attn"))
    }
    var children: [(String, any Module)] { [("conv", conv), ("norm", norm), ("attn", attn)] }

    func callAsFunction(_ x: Variable) -> Variable {
        let (b, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let y = norm(conv(x)).silu()
        let tokens = y.reshaped([b, c, h * w]).permuted([0, 2, 1])          // [B, L, C]
        let a = attn(tokens).permuted([0, 2, 1]).reshaped([b, c, h, w])
        return x + a
    }
}

/// The fixture written by scripts/golden_block.py (raw little-endian float32 + JSON index).
struct GoldenFixture {
    let tensors: [String: Tensor]

    init() throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fixtures")
        let index = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("golden_block.json")))
        let blob = try Data(contentsOf: dir.appendingPathComponent("golden_block.bin"))
        let floats: [Float] = blob.withUnsafeBytes { raw in
            (0..<(blob.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
        guard let entries = (index as? [String: Any])?["tensors"] as? [String: [String: Any]] else {
            throw FixtureError(message: "golden_block.json: no `tensors` object; regenerate with python3 scripts/golden_block.py")
        }
        var out: [String: Tensor] = [:]
        for (name, e) in entries {
            guard let offset = e["offset"] as? Int, let shape = e["shape"] as? [Int],
                  offset + shape.reduce(1, *) <= floats.count else {
                throw FixtureError(message: "golden_block.json: bad entry for \(name); regenerate the fixture")
            }
            out[name] = Tensor(shape: shape, scalars: Array(floats[offset..<(offset + shape.reduce(1, *))]))
        }
        tensors = out
    }

    subscript(_ name: String) -> Tensor {
        guard let t = tensors[name] else { fatalError("golden fixture has no tensor '\(name)'") }
        return t
    }
}

struct FixtureError: Error, CustomStringConvertible { let message: String; var description: String { message } }

/// Element-by-element comparison reporting max abs and max rel error and the first bad index.
/// Passes when |a - b| <= atol + rtol |b| for every element.
func expectMatches(_ name: String, _ got: Tensor, _ want: Tensor, atol: Float, rtol: Float,
                   sourceLocation: SourceLocation = #_sourceLocation) {
    guard got.shape == want.shape else {
        Issue.record("\(name): shape \(got.shape) vs reference \(want.shape)", sourceLocation: sourceLocation)
        return
    }
    var maxAbs: Float = 0, maxRel: Float = 0, firstBad: Int?
    for i in 0..<got.count {
        let e = abs(got.scalars[i] - want.scalars[i])
        maxAbs = max(maxAbs, e)
        maxRel = max(maxRel, e / max(abs(want.scalars[i]), 1e-6))
        if firstBad == nil && !(e <= atol + rtol * abs(want.scalars[i])) { firstBad = i }
    }
    if let i = firstBad {
        Issue.record("\(name): first bad index \(i) (got \(got.scalars[i]), reference \(want.scalars[i])); max abs err \(maxAbs), max rel err \(maxRel) (atol \(atol), rtol \(rtol))",
                     sourceLocation: sourceLocation)
    }
}

/// Golden test: forward output and every gradient against the independent NumPy reference
/// (float64 forward, float64 central-difference gradients). Tolerances: atol 5e-5 + rtol 1e-3
/// (measured on 2026-11-25: max abs error 2.4e-7 on the output and 4.8e-6 on the gradients, from
/// Float32 arithmetic; the reference gradients carry ~1e-8 finite-difference error).
@Suite struct GoldenBlockTests {
    @Test func forwardAndGradientsMatchNumPy() throws {
        let fx = try GoldenFixture()
        let block = GoldenBlock(key: RNGKey(seed: 0))
        // Loading by key also proves our parameter names are the reference's (PyTorch) names.
        var file = SafeTensorsFile()
        for key in block.namedParameters().map(\.0) {
            let t = try #require(fx.tensors[key], "fixture lacks parameter \(key)")
            file.tensors[key] = TensorData(shape: t.shape, values: t.scalars)
        }
        try block.loadStrict(file, path: "golden_block.bin")

        let x = Variable(fx["x"], requiresGrad: true)
        let out = block(x)
        expectMatches("out", out.value, fx["out"], atol: 5e-5, rtol: 1e-3)
        (out * Variable(fx["w"])).sum().backward()
        for (key, p) in block.namedParameters() {
            expectMatches("grad.\(key)", try #require(p.grad, "no gradient for \(key)"), fx["grad.\(key)"], atol: 5e-5, rtol: 1e-3)
        }
        expectMatches("grad.x", try #require(x.grad), fx["grad.x"], atol: 5e-5, rtol: 1e-3)
    }
}
