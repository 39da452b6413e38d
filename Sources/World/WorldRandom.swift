/// The world's only source of randomness: a pure function of (seed, stream, index), so a
/// render depends on nothing but its inputs (no state, no thread-count dependence).
///
/// TRANSITIONAL: until the `Random` module (Philox4x32-10, branch `optim`) lands its API,
/// `bits` is a placeholder counter-based mix. The switch is one line in `bits`; all world
/// code goes through this file, and no other generator exists in World.
enum WorldRandom {
    /// 32 uniformly distributed bits for (seed, stream, index).
    @inline(__always)
    static func bits(seed: UInt64, stream: UInt64, index: UInt64) -> UInt32 {
        // Placeholder counter-based mix (splitmix64 finaliser over the three words).
        var z = seed &+ 0x9E37_79B9_7F4A_7C15 &* (stream &+ 1)
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z ^= index &* 0xD6E8_FEB8_6659_FD93
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        z = (z ^ (z >> 29)) &* 0xBF58_476D_1CE4_E5B9
        return UInt32(truncatingIfNeeded: z >> 32)
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
