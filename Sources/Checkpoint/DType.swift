/// Element types this module reads (F32, F16, BF16) and writes (F32, F16, BF16).
/// In memory every tensor is Float32; conversion happens at the file boundary.
public enum DType: String, Sendable, Codable, CaseIterable, Comparable {
    case f32 = "F32"
    case f16 = "F16"
    case bf16 = "BF16"

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .f32: return 4
        case .f16, .bf16: return 2
        }
    }

    /// Order of the data section, as the Rust `safetensors` crate sorts it:
    /// larger alignment first (F32 before F16 before BF16), then by name.
    var rank: Int {
        switch self {
        case .f32: return 0
        case .f16: return 1
        case .bf16: return 2
        }
    }

    public static func < (a: DType, b: DType) -> Bool { a.rank < b.rank }
}

/// IEEE binary16 and bfloat16 conversions, by bit manipulation (no `Float16`, which is
/// missing on macOS x86_64).
public enum HalfBits {
    /// Float32 -> binary16 bits, round to nearest even; overflow gives +-inf, NaN stays NaN.
    public static func f16(from value: Float) -> UInt16 {
        let x = value.bitPattern
        let sign = UInt16((x >> 16) & 0x8000)
        let exp = Int((x >> 23) & 0xff)
        var mant = x & 0x7f_ffff
        if exp == 0xff {  // inf or NaN
            return sign | 0x7c00 | (mant != 0 ? 0x200 | UInt16(mant >> 13) : 0)
        }
        let e = exp - 127 + 15
        if e >= 0x1f { return sign | 0x7c00 }
        if e <= 0 {
            // Subnormal half (or zero): shift the full significand into place.
            if e < -10 { return sign }
            mant |= 0x80_0000
            let shift = UInt32(14 - e)
            let half = mant >> shift
            let rem = mant & ((1 << shift) - 1)
            let midpoint = UInt32(1) << (shift - 1)
            let roundUp = rem > midpoint || (rem == midpoint && half & 1 == 1)
            return sign | UInt16(half + (roundUp ? 1 : 0))
        }
        var h = UInt32(e) << 10 | mant >> 13
        let rem = mant & 0x1fff
        if rem > 0x1000 || (rem == 0x1000 && h & 1 == 1) {
            h += 1  // may carry into the exponent, up to infinity: still correct
        }
        return sign | UInt16(h)
    }

    /// binary16 bits -> Float32 (exact).
    public static func float(fromF16 h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exp = UInt32((h >> 10) & 0x1f)
        let mant = UInt32(h & 0x3ff)
        if exp == 0x1f { return Float(bitPattern: sign | 0x7f80_0000 | mant << 13) }
        if exp == 0 {
            let magnitude = Float(mant) * 0x1p-24
            return sign != 0 ? -magnitude : magnitude
        }
        return Float(bitPattern: sign | (exp + 112) << 23 | mant << 13)
    }

    /// Float32 -> bfloat16 bits, round to nearest even; NaN stays NaN.
    public static func bf16(from value: Float) -> UInt16 {
        let x = value.bitPattern
        if value.isNaN { return UInt16(x >> 16) | 0x40 }
        let rounded = x &+ 0x7fff &+ ((x >> 16) & 1)
        return UInt16(rounded >> 16)
    }

    /// bfloat16 bits -> Float32 (exact).
    public static func float(fromBF16 b: UInt16) -> Float {
        Float(bitPattern: UInt32(b) << 16)
    }
}
