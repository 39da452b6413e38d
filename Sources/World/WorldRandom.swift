import Random

/// The world's only source of randomness: a pure function of (seed, stream, index), so a
/// render depends on nothing but its inputs (no state, no thread-count dependence).
/// Backed by the `Random` module: word `index` of `RNGKey(seed: seed).fold(in: stream)`
/// (Philox4x32-10).
enum WorldRandom {
    /// The key of (seed, stream); hot loops derive it once and call `uint32(at:)`.
    @inline(__always)
    static func key(seed: UInt64, stream: UInt64) -> RNGKey { RNGKey(seed: seed).fold(in: stream) }

    /// 32 uniformly distributed bits for (seed, stream, index).
    @inline(__always)
    static func bits(seed: UInt64, stream: UInt64, index: UInt64) -> UInt32 {
        key(seed: seed, stream: stream).uint32(at: index)
    }

    /// Uniform Float in [0, 1) (24 bits).
    @inline(__always)
    static func unit(seed: UInt64, stream: UInt64, index: UInt64) -> Float {
        Float(bits(seed: seed, stream: stream, index: index) >> 8) * (1.0 / 16_777_216.0)
    }

    /// Uniform Float in [lo, hi).
    static func uniform(_ lo: Float, _ hi: Float, seed: UInt64, stream: UInt64, index: UInt64) -> Float {
        lo + (hi - lo) * unit(seed: seed, stream: stream, index: index)
    }

    /// Uniform Int in 0..<n (n > 0), by multiply-shift (bias < 2^-32 * n, irrelevant here).
    static func below(_ n: Int, seed: UInt64, stream: UInt64, index: UInt64) -> Int {
        precondition(n > 0, "WorldRandom.below(\(n))")
        return Int((UInt64(bits(seed: seed, stream: stream, index: index)) &* UInt64(n)) >> 32)
    }
}

/// Stream identifiers: one per independent use, so adding a field never shifts another.
enum Stream: UInt64 {
    case appearance = 1, pose = 2, scene = 3, prompt = 4, sameSubject = 5, defect = 6, hpatches = 7
}
