import Foundation
import Testing
@testable import Random

@Suite struct RNGKeyTests {
    let key = RNGKey(seed: 1234)

    @Test func fillMatchesPerIndexValuesAtAnyOffset() {
        for offset: UInt64 in [0, 1, 2, 3, 7, 1 << 33 + 5] {
            var u = [Float](repeating: -1, count: 11)
            var z = [Float](repeating: -1, count: 11)
            u.withUnsafeMutableBufferPointer { key.fillUniform($0, offset: offset) }
            z.withUnsafeMutableBufferPointer { key.fillNormal($0, offset: offset, mean: 1, std: 2) }
            for i in 0..<11 {
                #expect(u[i] == key.uniform(at: offset + UInt64(i)), "uniform offset \(offset) i \(i)")
                #expect(z[i] == 1 + 2 * key.normal(at: offset + UInt64(i)), "normal offset \(offset) i \(i)")
            }
        }
    }

    @Test(arguments: [FillKind.uniform(low: -1, high: 3), .normal(mean: 0.5, std: 2), .bernoulli(p: 0.3)])
    func parallelFillIsIndependentOfThreadCount(kind: FillKind) {
        let n = 1001
        func fill(threads: Int) -> [Float] {
            var out = [Float](repeating: .nan, count: n)
            out.withUnsafeMutableBufferPointer { key.parallelFill($0, offset: 13, kind: kind, threads: threads) }
            return out
        }
        let one = fill(threads: 1)
        #expect(!one.contains { $0.isNaN })
        for threads in [2, 3, 7, 64] {
            let many = fill(threads: threads)
            #expect(many.map(\.bitPattern) == one.map(\.bitPattern), "threads \(threads) differ from 1")
        }
    }

    @Test func foldAndSplitGiveDistinctKeys() {
        var seen = Set<RNGKey>([key])
        for i in 0..<200 { seen.insert(key.fold(in: UInt64(i))) }
        for k in key.split(200) { seen.insert(k) }
        for name in ["a", "b", "blocks.0.attn.qkv.weight", "blocks.1.attn.qkv.weight"] {
            seen.insert(key.fold(in: name))
        }
        #expect(seen.count == 1 + 200 + 200 + 4)
        #expect(key.fold(in: 7) == key.fold(in: 7))
        #expect(key.fold(in: "x") == key.fold(in: "x"))
        #expect(RNGKey(seed: 1).fold(in: 7) != RNGKey(seed: 2).fold(in: 7))
    }

    @Test func uniformStaysInUnitIntervalAndHasTheRightMoments() {
        let n = 40_000
        var u = [Float](repeating: 0, count: n)
        u.withUnsafeMutableBufferPointer { key.fillUniform($0) }
        #expect(u.allSatisfy { $0 >= 0 && $0 < 1 })
        let mean = u.reduce(0.0) { $0 + Double($1) } / Double(n)
        let variance = u.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(n)
        // Standard error of the mean is 0.0014; of the variance about 0.0004.
        #expect(abs(mean - 0.5) < 0.006, "mean \(mean)")
        #expect(abs(variance - 1.0 / 12) < 0.002, "variance \(variance)")
        #expect(RNGKey.unitFloat(0xffff_ffff) < 1)
        #expect(RNGKey.unitFloat(0) == 0)
    }

    @Test func normalHasTheRightMoments() {
        let n = 40_000
        var z = [Float](repeating: 0, count: n)
        z.withUnsafeMutableBufferPointer { key.fillNormal($0) }
        let mean = z.reduce(0.0) { $0 + Double($1) } / Double(n)
        let m2 = z.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(n)
        let m4 = z.reduce(0.0) { $0 + pow(Double($1), 4) } / Double(n)
        let within1 = Double(z.filter { abs($0) < 1 }.count) / Double(n)
        #expect(abs(mean) < 0.02, "mean \(mean)")
        #expect(abs(m2 - 1) < 0.03, "second moment \(m2)")
        #expect(abs(m4 - 3) < 0.2, "fourth moment \(m4)")
        #expect(abs(within1 - 0.6827) < 0.01, "P(|z|<1) = \(within1)")
        // Neighbouring cos/sin pairs are uncorrelated.
        let corr = stride(from: 0, to: n, by: 2).reduce(0.0) { $0 + Double(z[$1]) * Double(z[$1 + 1]) } / Double(n / 2)
        #expect(abs(corr) < 0.03, "pair correlation \(corr)")
    }

    @Test func bernoulliFrequency() {
        var b = [Float](repeating: 0, count: 20_000)
        b.withUnsafeMutableBufferPointer { key.fillBernoulli($0, p: 0.25) }
        #expect(b.allSatisfy { $0 == 0 || $0 == 1 })
        let rate = Double(b.reduce(0, +)) / Double(b.count)
        #expect(abs(rate - 0.25) < 0.015, "rate \(rate)")
    }
}
