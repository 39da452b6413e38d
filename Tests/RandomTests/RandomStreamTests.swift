import Foundation
import Testing
@testable import Random

@Suite struct RandomStreamTests {
    @Test func fillsEqualRepeatedSingleDraws() {
        var a = RandomStream(seed: 9), b = RandomStream(seed: 9)
        _ = a.nextFloat(); _ = b.nextFloat()  // unaligned start
        let filled = a.normals(9) + a.uniforms(5, low: 2, high: 4)
        let drawn = (0..<9).map { _ in b.nextNormal() } + (0..<5).map { _ in 2 + 2 * b.nextFloat() }
        #expect(filled == drawn)
        #expect(a == b)
        #expect(a.position == 15)
    }

    @Test func codableStateResumesTheSequence() throws {
        var s = RandomStream(key: RNGKey(seed: 77).fold(in: "dpo-train"))
        _ = s.normals(10)
        let saved = try JSONEncoder().encode(s)
        let expected = (s.nextFloat(), s.nextInt(in: 0..<1000), s.nextNormal())
        var r = try JSONDecoder().decode(RandomStream.self, from: saved)
        let resumed = (r.nextFloat(), r.nextInt(in: 0..<1000), r.nextNormal())
        #expect(resumed == expected)
        #expect(r == s)
    }

    @Test func intInRangeCoversTheRangeUniformly() {
        var s = RandomStream(seed: 3)
        var counts = [Int](repeating: 0, count: 7)
        let n = 14_000
        for _ in 0..<n {
            let v = s.nextInt(in: -3..<4)
            #expect((-3..<4).contains(v))
            counts[v + 3] += 1
        }
        let expected = Double(n) / 7
        let chi2 = counts.reduce(0.0) { $0 + pow(Double($1) - expected, 2) / expected }
        // 6 degrees of freedom: P(chi2 > 22.5) = 0.001.
        #expect(chi2 < 22.5, "counts \(counts) chi2 \(chi2)")
        #expect(s.nextInt(in: 5...5) == 5)
        let huge = s.nextInt(in: Int.min..<Int.max)
        #expect(huge < Int.max)
    }

    @Test func permutationIsAPermutationAndDependsOnTheKey() {
        var a = RandomStream(seed: 1), b = RandomStream(seed: 1), c = RandomStream(seed: 2)
        let pa = a.permutation(50), pb = b.permutation(50), pc = c.permutation(50)
        #expect(pa.sorted() == Array(0..<50))
        #expect(pa == pb)
        #expect(pa != pc)
        #expect(pa != Array(0..<50))
        // Each element lands in each position about equally often.
        var firstCounts = [Int](repeating: 0, count: 4)
        var s = RandomStream(seed: 5)
        for _ in 0..<4000 { firstCounts[s.permutation(4)[0]] += 1 }
        #expect(firstCounts.allSatisfy { abs($0 - 1000) < 120 }, "\(firstCounts)")
    }

    @Test func bernoulliDraws() {
        var s = RandomStream(seed: 11)
        let hits = (0..<10_000).filter { _ in s.nextBernoulli(0.1) }.count
        #expect(abs(hits - 1000) < 100, "hits \(hits)")
        #expect(!(0..<100).contains { _ in s.nextBernoulli(0) })
        #expect((0..<100).allSatisfy { _ in s.nextBernoulli(1) })
    }
}
