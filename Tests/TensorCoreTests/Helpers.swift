import Testing
@testable import TensorCore

/// Deterministic pseudo-random tensors (SplitMix64), uniform in [lo, hi).
struct TestRNG {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func uniform(_ lo: Float = -1, _ hi: Float = 1) -> Float {
        lo + (hi - lo) * Float(next() >> 40) / Float(1 << 24)
    }
    mutating func tensor(_ shape: [Int], _ lo: Float = -1, _ hi: Float = 1) -> Tensor {
        Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in uniform(lo, hi) })
    }
}

/// Expects equal shapes and `|a - b| <= atol + rtol |b|` everywhere; reports the max error and
/// the first bad index.
func expectClose(_ a: Tensor, _ b: Tensor, atol: Float = 1e-4, rtol: Float = 1e-4,
                 _ what: String = "", sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(a.shape == b.shape, "\(what): shape \(a.shape) vs \(b.shape)", sourceLocation: sourceLocation)
    guard a.shape == b.shape else { return }
    var maxErr: Float = 0, firstBad: Int? = nil
    for i in 0..<a.count {
        let e = abs(a.scalars[i] - b.scalars[i])
        if !(e <= atol + rtol * abs(b.scalars[i])) && firstBad == nil { firstBad = i }
        if e > maxErr || e.isNaN { maxErr = e }
    }
    #expect(firstBad == nil,
            "\(what): max abs err \(maxErr); first bad index \(firstBad ?? -1) (\(firstBad.map { a.scalars[$0] } ?? 0) vs \(firstBad.map { b.scalars[$0] } ?? 0))",
            sourceLocation: sourceLocation)
}

/// Central finite difference of `sum(f(x) * w)` along a random direction, in Double, compared
/// with the analytic directional derivative `<grad, dir>`.
func expectGradient(_ x: Tensor, analytic: Tensor, eps: Float = 1e-2, tol: Double = 2e-2, seed: UInt64 = 7, _ what: String = "",
                    sourceLocation: SourceLocation = #_sourceLocation, _ loss: (Tensor) -> Double) {
    var rng = TestRNG(seed)
    let dir = rng.tensor(x.shape)
    var plus = x, minus = x
    for i in 0..<x.count { plus.scalars[i] += eps * dir.scalars[i]; minus.scalars[i] -= eps * dir.scalars[i] }
    let numeric = (loss(plus) - loss(minus)) / (2 * Double(eps))
    var exact = 0.0
    for i in 0..<x.count { exact += Double(analytic.scalars[i]) * Double(dir.scalars[i]) }
    let err = abs(numeric - exact) / Swift.max(1, abs(exact))
    #expect(err < tol, "\(what): finite difference \(numeric) vs analytic \(exact)", sourceLocation: sourceLocation)
}

/// `sum(t * w)` in Double.
func dot(_ t: Tensor, _ w: Tensor) -> Double {
    var s = 0.0
    for i in 0..<t.count { s += Double(t.scalars[i]) * Double(w.scalars[i]) }
    return s
}
