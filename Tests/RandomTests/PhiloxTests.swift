import Testing
@testable import Random

/// Known-answer vectors from Random123's `kat_vectors` (philox4x32 10): counter, key, output.
@Suite struct PhiloxTests {
    @Test(arguments: [
        (SIMD4<UInt32>(0, 0, 0, 0), SIMD2<UInt32>(0, 0),
         SIMD4<UInt32>(0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8)),
        (SIMD4<UInt32>(repeating: 0xffff_ffff), SIMD2<UInt32>(repeating: 0xffff_ffff),
         SIMD4<UInt32>(0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd)),
        (SIMD4<UInt32>(0x243f_6a88, 0x85a3_08d3, 0x1319_8a2e, 0x0370_7344),
         SIMD2<UInt32>(0xa409_3822, 0x299f_31d0),
         SIMD4<UInt32>(0xd16c_fe09, 0x94fd_cceb, 0x5001_e420, 0x2412_6ea1)),
    ])
    func knownAnswer(counter: SIMD4<UInt32>, key: SIMD2<UInt32>, expected: SIMD4<UInt32>) {
        let out = Philox4x32.block(counter: counter, key: key)
        #expect(out == expected, "counter \(counter) key \(key): got \(out.hex) expected \(expected.hex)")
    }

    @Test func keyWordsMapToPhiloxKeyAndIndexToCounter() {
        let key = RNGKey(k0: 0xa409_3822, k1: 0x299f_31d0)
        let direct = Philox4x32.block(counter: SIMD4(5, 0, 0, 0), key: SIMD2(0xa409_3822, 0x299f_31d0))
        for lane in 0..<4 {
            #expect(key.uint32(at: UInt64(20 + lane)) == direct[lane])
        }
        #expect(RNGKey(seed: 0x0000_0002_0000_0001) == RNGKey(k0: 1, k1: 2))
    }
}

extension SIMD4<UInt32> {
    var hex: String { (0..<4).map { String(self[$0], radix: 16) }.joined(separator: " ") }
}
