import Testing
@testable import Checkpoint

@Suite struct HalfBitsTests {
    @Test func everyHalfRoundTripsThroughFloat() {
        for bits in 0...UInt16.max {
            let f = HalfBits.float(fromF16: bits)
            if f.isNaN {
                #expect(HalfBits.f16(from: f) & 0x7c00 == 0x7c00 && HalfBits.f16(from: f) & 0x3ff != 0)
                continue
            }
            #expect(HalfBits.f16(from: f) == bits, "bits \(String(bits, radix: 16)) -> \(f)")
        }
    }

    #if !(os(macOS) && arch(x86_64))
    @Test func matchesTheHardwareFloat16Conversion() {
        // Edge cases: ties to even, subnormals, overflow boundary, then a deterministic sweep.
        var inputs: [Float] = [0, -0, 1, 65504, 65519.99, 65520, 1e6, -1e6, 0x1p-24, 0x1p-25,
                               0x1.8p-25, 0x1p-26, 5.9604645e-08, 6.1035156e-05, 6.097555e-05,
                               1 + 0x1p-11, 1 + 0x3p-11, 2049, 2051, .infinity, -.infinity]
        var x: UInt32 = 12345
        for _ in 0..<100_000 {
            x = x &* 1_664_525 &+ 1_013_904_223
            inputs.append(Float(bitPattern: (x & 0x8fff_ffff) | 0x3000_0000 & x))
        }
        for v in inputs where !v.isNaN {
            let expected = Float16(v).bitPattern
            #expect(HalfBits.f16(from: v) == expected, "\(v): got \(String(HalfBits.f16(from: v), radix: 16)) expected \(String(expected, radix: 16))")
        }
    }
    #endif

    @Test func bfloat16RoundsToNearestEven() {
        #expect(HalfBits.bf16(from: 1) == 0x3f80)
        #expect(HalfBits.float(fromBF16: 0x3f80) == 1)
        // 1 + 2^-8 is a tie between 1 and 1 + 2^-7: even is 1.
        #expect(HalfBits.bf16(from: 1 + 0x1p-8) == 0x3f80)
        // 1 + 3 * 2^-8 ties between 1+2^-7 (odd) and 1+2^-6 (even).
        #expect(HalfBits.bf16(from: 1 + 0x3p-8) == 0x3f82)
        #expect(HalfBits.bf16(from: 1 + 0x1p-8 + 0x1p-20) == 0x3f81)
        #expect(HalfBits.float(fromBF16: HalfBits.bf16(from: .nan)).isNaN)
        #expect(HalfBits.float(fromBF16: HalfBits.bf16(from: -3.5)) == -3.5)
    }
}
