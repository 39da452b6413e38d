// Philox4x32-10, the counter-based generator of Salmon, Moraes, Dror & Shaw,
// "Parallel random numbers: as easy as 1, 2, 3" (SC 2011), as in Random123.

/// The Philox4x32-10 bijection: a 128-bit counter and a 64-bit key give 128 random bits.
///
/// One round, with `mulhilo(a, b) = (hi, lo)` of the 64-bit product `a * b`:
/// ```
/// (hi0, lo0) = mulhilo(0xD2511F53, c0)      (hi1, lo1) = mulhilo(0xCD9E8D57, c2)
/// c = (hi1 ^ c1 ^ k0,  lo1,  hi0 ^ c3 ^ k1,  lo0)
/// ```
/// followed, between rounds, by the Weyl key bump `k0 += 0x9E3779B9, k1 += 0xBB67AE85`.
/// Ten rounds, nine bumps. Checked against Random123's `kat_vectors` in the tests.
public enum Philox4x32 {
    static let m0: UInt32 = 0xD251_1F53
    static let m1: UInt32 = 0xCD9E_8D57
    static let w0: UInt32 = 0x9E37_79B9
    static let w1: UInt32 = 0xBB67_AE85

    /// Applies the ten-round bijection to `counter` under `key`.
    /// - Parameters:
    ///   - counter: four 32-bit words (c0, c1, c2, c3).
    ///   - key: two 32-bit words (k0, k1).
    /// - Returns: four uniformly distributed 32-bit words.
    @inlinable
    public static func block(counter: SIMD4<UInt32>, key: SIMD2<UInt32>) -> SIMD4<UInt32> {
        var c = counter
        var k0 = key.x, k1 = key.y
        for round in 0..<10 {
            if round > 0 {
                k0 &+= 0x9E37_79B9
                k1 &+= 0xBB67_AE85
            }
            let p0 = UInt64(0xD251_1F53) &* UInt64(c.x)
            let p1 = UInt64(0xCD9E_8D57) &* UInt64(c.z)
            let hi0 = UInt32(truncatingIfNeeded: p0 >> 32), lo0 = UInt32(truncatingIfNeeded: p0)
            let hi1 = UInt32(truncatingIfNeeded: p1 >> 32), lo1 = UInt32(truncatingIfNeeded: p1)
            c = SIMD4(hi1 ^ c.y ^ k0, lo1, hi0 ^ c.w ^ k1, lo0)
        }
        return c
    }
}
