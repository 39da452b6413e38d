import Foundation

/// A 64-bit Philox key: the whole state of a counter-based random source.
///
/// Every number drawn from a key is a pure function of `(key, domain, index)`:
/// the Philox counter is `(index / 4 low, index / 4 high, domain, 0)` and the value
/// uses word `index % 4` (or a pair of words for normals). So value `i` of a buffer
/// filled from `offset` depends only on `(key, offset + i)`, whatever the chunking or
/// thread count. Derived keys (`fold(in:)`, `split`) use their own counter domains,
/// so they never collide with the numbers drawn from the parent key.
///
/// Typical use: `let root = RNGKey(seed: 42)`, `root.fold(in: "layer3")` for per-layer
/// initialisation, `root.fold(in: itemIndex)` for per-item noise, `RandomStream(key:)`
/// for sequential draws.
public struct RNGKey: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The two key words (k0, k1) of Philox4x32.
    public var k0: UInt32
    public var k1: UInt32

    /// Counter-word-2 tags separating the uses of one key.
    enum Domain: UInt32 {
        case bits = 0            // raw words, uniforms, integers, Bernoulli
        case normal = 1          // Box-Muller pairs
        case fold = 0x464F_4C44  // "FOLD"
        case split = 0x5350_4C54 // "SPLT"
    }

    public init(k0: UInt32, k1: UInt32) {
        self.k0 = k0
        self.k1 = k1
    }

    /// A root key from a seed (the two halves of the seed, like JAX's `PRNGKey`).
    public init(seed: UInt64) {
        self.init(k0: UInt32(truncatingIfNeeded: seed), k1: UInt32(truncatingIfNeeded: seed >> 32))
    }

    public var description: String {
        "RNGKey(" + String(k0, radix: 16) + ", " + String(k1, radix: 16) + ")"
    }

    var words: SIMD2<UInt32> { SIMD2(k0, k1) }

    @inline(__always)
    func block(_ domain: Domain, _ blockIndex: UInt64) -> SIMD4<UInt32> {
        let c = SIMD4<UInt32>(UInt32(truncatingIfNeeded: blockIndex),
                              UInt32(truncatingIfNeeded: blockIndex >> 32),
                              domain.rawValue, 0)
        return Philox4x32.block(counter: c, key: SIMD2(k0, k1))
    }

    // MARK: Derived keys

    /// A key derived from this one and `data` (e.g. an item index or a step number).
    /// `fold(in: a) != fold(in: b)` for `a != b` with overwhelming probability.
    public func fold(in data: UInt64) -> RNGKey {
        let b = block(.fold, data)
        return RNGKey(k0: b.x, k1: b.y)
    }

    /// A key derived from this one and a name (e.g. `"blocks.3.attn.qkv.weight"`),
    /// via the 64-bit FNV-1a hash of the UTF-8 bytes.
    public func fold(in name: String) -> RNGKey {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in name.utf8 {
            h ^= UInt64(byte)
            h = h &* 0x0000_0100_0000_01B3
        }
        return fold(in: h)
    }

    /// `count` independent keys derived from this one (distinct from any `fold(in:)`).
    public func split(_ count: Int) -> [RNGKey] {
        precondition(count >= 0, "RNGKey.split: count must be >= 0, got \(count)")
        return (0..<count).map { i in
            let b = block(.split, UInt64(i))
            return RNGKey(k0: b.x, k1: b.y)
        }
    }

    // MARK: Values by index (pure functions of key and index)

    /// Random word number `index` of this key.
    public func uint32(at index: UInt64) -> UInt32 {
        block(.bits, index >> 2)[Int(index & 3)]
    }

    /// Uniform Float in [0, 1): `(w >> 8) * 2^-24`, so every value is a multiple of 2^-24.
    public func uniform(at index: UInt64) -> Float {
        RNGKey.unitFloat(uint32(at: index))
    }

    /// Standard normal number `index` (Box-Muller on the word pairs of block `index / 4`,
    /// computed in Double): `r = sqrt(-2 ln u1)`, `z = r cos(2 pi u2)` for even `index`,
    /// `r sin(2 pi u2)` for odd, with `u1 = (w + 1) 2^-32` in (0, 1] and `u2 = w' 2^-32`.
    /// Tails are cut at |z| <= 6.66 (u1 >= 2^-32).
    public func normal(at index: UInt64) -> Float {
        let b = block(.normal, index >> 2)
        let pair = Int(index & 2)
        return RNGKey.boxMuller(b[pair], b[pair + 1], sine: index & 1 == 1)
    }

    static func unitFloat(_ w: UInt32) -> Float {
        Float(w >> 8) * 0x1p-24
    }

    static func boxMuller(_ a: UInt32, _ b: UInt32, sine: Bool) -> Float {
        let u1 = (Double(a) + 1) * 0x1p-32
        let u2 = Double(b) * 0x1p-32
        let r = (-2 * Foundation.log(u1)).squareRoot()
        let theta = 2 * Double.pi * u2
        return Float(sine ? r * Foundation.sin(theta) : r * Foundation.cos(theta))
    }
}
