import Testing
@testable import Optim

/// AdamW updates 16 elements per SIMD operation and the rest one by one; the golden trajectories' parameters are
/// shorter than 16, so this checks the vector body against the scalar tail: a 37-element parameter (two vector
/// blocks and a tail of 5) must end bit for bit where 37 one-element parameters do, for both of torch's lerp forms.
@Suite struct AdamWLanesTests {
    @Test(arguments: [0.9, 0.3])
    func vectorBodyGivesTheScalarBits(beta1: Double) {
        let n = 37
        var wide = AdamW(learningRate: 1e-2, beta1: beta1, weightDecay: 0.1)
        var single = wide
        var pw = (0..<n).map { Float($0) * 0.37 - 5 }
        var ps = pw
        for step in 0..<4 {
            let g = (0..<n).map { Float(($0 * 7 + step * 3) % 11) * 0.25 - 1.3 }
            pw.withUnsafeMutableBufferPointer { p in
                g.withUnsafeBufferPointer { wide.update("w", parameter: p, gradient: $0) }
            }
            for i in 0..<n {
                ps.withUnsafeMutableBufferPointer { p in
                    let one = UnsafeMutableBufferPointer(rebasing: p[i ..< i + 1])
                    g.withUnsafeBufferPointer { single.update("w\(i)", parameter: one, gradient: UnsafeBufferPointer(rebasing: $0[i ..< i + 1])) }
                }
            }
        }
        #expect(pw.map(\.bitPattern) == ps.map(\.bitPattern))
        #expect(wide.state["w"]!.expAvgSq.map(\.bitPattern) == (0..<n).map { single.state["w\($0)"]!.expAvgSq[0].bitPattern })
    }
}
