import Foundation
import TensorCore

/// SplitMix64: the one deterministic generator for test data of the test targets (tests must not share global
/// state). Also a `RandomNumberGenerator`, for the standard library's `random(in:using:)`.
public struct TestRNG: RandomNumberGenerator, Sendable {
    public var state: UInt64
    /// A generator for `seed` (the seed is mixed into the state, so nearby seeds start far apart).
    public init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 &+ 1 }
    /// A generator starting from the raw SplitMix64 `state` (the plain SplitMix64 sequence of that seed).
    public init(state: UInt64) { self.state = state }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [lo, hi).
    public mutating func uniform(_ lo: Float = -1, _ hi: Float = 1) -> Float {
        lo + (hi - lo) * Float(next() >> 40) / Float(1 << 24)
    }
    /// Standard normal (Box-Muller).
    public mutating func normal() -> Float {
        let u1 = Swift.max(Double(next() >> 11) / Double(1 << 53), 1e-12), u2 = Double(next() >> 11) / Double(1 << 53)
        return Float((-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2))
    }
    public mutating func tensor(_ shape: [Int], _ lo: Float = -1, _ hi: Float = 1) -> Tensor {
        Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in uniform(lo, hi) })
    }
    public mutating func normalTensor(_ shape: [Int]) -> Tensor {
        Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in normal() })
    }
}
