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

    /// Deterministic test values (SplitMix64), local to each test.
    struct RNG {
        var state: UInt64
        init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 &+ 1 }
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func uniform(_ lo: Float = -1, _ hi: Float = 1) -> Float { lo + (hi - lo) * Float(next() >> 40) / Float(1 << 24) }
        mutating func tensor(_ shape: [Int], _ lo: Float = -1, _ hi: Float = 1) -> Tensor {
            Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in uniform(lo, hi) })
        }
    }

    /// Finite-difference check through a model: for each parameter whose key is in `keys` (all when
    /// nil) and each input, compares <dL/dtheta, d> with (L(theta + h d) - L(theta - h d)) / 2h along
    /// a random direction d, L = sum(f(x) * w) for a fixed random w, accumulated in Double.
    /// Passes when |a - n| <= atol (1 + S) + rtol max(|a|, |n|), S = sum |f(x) * w|
    /// (the tolerance of NNTests' `moduleGradCheck`: h = 1e-2, rtol = 1e-2, atol = 1e-4).
    /// Returns how many checks ran.
    @discardableResult
    static func gradCheck(
        _ module: some Module, keys: Set<String>? = nil, inputs: [Tensor] = [], h: Float = 1e-2, rtol: Double = 1e-2,
        atol: Double = 1e-4, seed: UInt64 = 7, sourceLocation: SourceLocation = #_sourceLocation,
        _ f: ([Variable]) -> Variable
    ) -> Int {
        var rng = RNG(seed: seed)
        let xs = inputs.map { Variable($0, requiresGrad: true) }
        module.zeroGrad()
        let y = f(xs)
        let w = rng.tensor(y.shape)
        y.backward(seed: w)
        let scale = zip(y.value.scalars, w.scalars).reduce(0.0) { $0 + abs(Double($1.0) * Double($1.1)) }
        func loss(_ inputs: [Tensor]) -> Double {
            let out = withNoGrad { f(inputs.map { Variable($0) }) }
            return zip(out.value.scalars, w.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        }
        var checks = 0
        func check(_ label: String, grad: Tensor?, direction d: Tensor, numeric: Double) {
            checks += 1
            guard let grad else {
                Issue.record("gradCheck: \(label) received no gradient", sourceLocation: sourceLocation)
                return
            }
            let analytic = zip(grad.scalars, d.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            let err = abs(analytic - numeric), tol = atol * (1 + scale) + rtol * max(abs(analytic), abs(numeric))
            #expect(err <= tol, "\(label): analytic \(analytic) vs numeric \(numeric) (err \(err) > tol \(tol))",
                    sourceLocation: sourceLocation)
        }
        for (key, p) in module.namedParameters() where keys?.contains(key) ?? true {
            let d = rng.tensor(p.shape), v0 = p.value
            p.value = Tensor(shape: v0.shape, scalars: zip(v0.scalars, d.scalars).map { $0 + h * $1 })
            let lp = loss(inputs)
            p.value = Tensor(shape: v0.shape, scalars: zip(v0.scalars, d.scalars).map { $0 - h * $1 })
            let lm = loss(inputs)
            p.value = v0
            check("parameter \(key) \(p.shape)", grad: p.grad, direction: d, numeric: (lp - lm) / (2 * Double(h)))
        }
        for i in inputs.indices {
            let d = rng.tensor(inputs[i].shape)
            var plus = inputs, minus = inputs
            plus[i] = Tensor(shape: d.shape, scalars: zip(inputs[i].scalars, d.scalars).map { $0 + h * $1 })
            minus[i] = Tensor(shape: d.shape, scalars: zip(inputs[i].scalars, d.scalars).map { $0 - h * $1 })
            check("input \(i) \(inputs[i].shape)", grad: xs[i].grad, direction: d,
                  numeric: (loss(plus) - loss(minus)) / (2 * Double(h)))
        }
        return checks
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
