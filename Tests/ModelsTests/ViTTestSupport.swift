import Foundation
import Testing
import Checkpoint
import TensorCore
import Autograd
import NN

/// Helpers of the encoder tests (ViT, text encoder, CLIP), namespaced so they cannot collide with
/// other test files of this target.
enum EncoderTestSupport {
    /// Tests/Fixtures/<name>.
    static func fixtureURL(_ name: String) -> URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures").appendingPathComponent(name)
    }

    /// Tensor `name` of a safetensors fixture.
    static func tensor(_ file: SafeTensorsFile, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> Tensor {
        let t = try #require(file.tensors[name], "fixture lacks \(name); regenerate with python3 scripts/golden_vit.py",
                             sourceLocation: sourceLocation)
        return Tensor(shape: t.shape, scalars: t.values)
    }

    /// Element-by-element comparison reporting max abs and rel error and the first bad index.
    /// Passes when |got - want| <= atol + rtol |want| for every element. Returns the max abs error.
    @discardableResult
    static func expectMatches(_ name: String, _ got: Tensor, _ want: Tensor, atol: Float, rtol: Float,
                              sourceLocation: SourceLocation = #_sourceLocation) -> Float {
        guard got.shape == want.shape else {
            Issue.record("\(name): shape \(got.shape) vs reference \(want.shape)", sourceLocation: sourceLocation)
            return .infinity
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
        return maxAbs
    }


    /// Compares a module's (key, shape) walk with an expected literal, reporting the first difference.
    static func expectKeys(_ module: some Module, _ expected: [(String, [Int])], sourceLocation: SourceLocation = #_sourceLocation) {
        let got = module.namedParameters().map { ($0.0, $0.1.shape) }
        #expect(got.count == expected.count, "\(got.count) parameters, expected \(expected.count)", sourceLocation: sourceLocation)
        for (i, (g, e)) in zip(got, expected).enumerated() where g.0 != e.0 || g.1 != e.1 {
            Issue.record("parameter \(i): got \(g.0) \(g.1), expected \(e.0) \(e.1)", sourceLocation: sourceLocation)
            return
        }
    }
}
