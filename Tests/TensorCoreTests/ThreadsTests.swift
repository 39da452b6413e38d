import Synchronization
import Testing
import TestSupport
@testable import TensorCore

@Suite struct ThreadsTests {
    @Test func environmentParsing() throws {
        #expect(try Threads.parse([:]) == nil)
        #expect(try Threads.parse(["PDPO_THREADS": " 3 "]) == 3)
        for bad in ["abc", "0", "-2", ""] {
            #expect(throws: ThreadsError.invalidEnvironment(variable: "PDPO_THREADS", value: bad)) {
                try Threads.parse(["PDPO_THREADS": bad])
            }
        }
        let message = ThreadsError.invalidEnvironment(variable: "PDPO_THREADS", value: "x").description
        #expect(message.contains("PDPO_THREADS") && message.contains("positive integer"))
    }

    @Test func parallelForVisitsEveryIndexOnceInFixedChunks() {
        let seen = Mutex([Int](repeating: 0, count: 1003))
        let ranges = Mutex([Range<Int>]())
        Threads.withCount(2) {
            #expect(Threads.count == 2)
            Threads.parallelFor(1003, chunk: 100) { r in
                ranges.withLock { $0.append(r) }
                seen.withLock { for i in r { $0[i] += 1 } }
            }
        }
        #expect(seen.withLock { $0.allSatisfy { $0 == 1 } })
        #expect(ranges.withLock { $0.sorted { $0.lowerBound < $1.lowerBound } } == (0..<11).map { $0 * 100..<min(1003, $0 * 100 + 100) })
        let parts = Threads.withCount(2) { Threads.parallelMap(10, chunk: 3) { Array($0) } }
        #expect(parts == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]])
    }

    /// Every parallel kernel gives bit-identical results with 1 and 2 threads (fixed chunks).
    @Test func kernelsAreIdenticalForOneAndTwoThreads() {
        var rng = TestRNG(state: 101)
        let x = rng.tensor([4, 8, 24, 24]), w = rng.tensor([6, 8, 3, 3]), bias = rng.tensor([6])
        let gy = rng.tensor([4, 6, 12, 12])
        let gamma = rng.tensor([8]), beta = rng.tensor([8])
        let rows = rng.tensor([700, 48]), cols = rng.tensor([48])
        func run() -> [Tensor] {
            let gn = Kernels.groupNorm(x, groups: 4, weight: gamma, bias: beta)
            let gnb = Kernels.groupNormBackward(x, input: x, mean: gn.mean, rstd: gn.rstd, groups: 4, weight: gamma, hasBias: true)
            let ln = Kernels.layerNorm(rows, weight: cols, bias: cols)
            let lnb = Kernels.layerNormBackward(rows, input: rows, mean: ln.mean, rstd: ln.rstd, weight: cols, hasBias: true)
            return [
                Kernels.sum(x, axes: [0, 2, 3]), Kernels.sum(rows, axes: [0]), Kernels.sumAll(x),
                Kernels.variance(x, axes: [1, 2, 3], unbiased: true), Kernels.max(rows, axes: [1]).values,
                Kernels.mul(rows, cols), Kernels.silu(x), Kernels.softmax(rows), Kernels.permute(x, [0, 2, 3, 1]),
                Kernels.conv2d(x, weight: w, bias: bias, stride: (2, 2), padding: (1, 1)),
                Kernels.conv2dBackwardData(gy, weight: w, inputShape: x.shape, stride: (2, 2), padding: (1, 1)),
                Kernels.conv2dBackwardWeight(gy, input: x, weightShape: w.shape, stride: (2, 2), padding: (1, 1)),
                gn.output, gn.mean, gn.rstd, gnb.input, gnb.weight!, gnb.bias!,
                ln.output, lnb.input, lnb.weight!, lnb.bias!,
                Kernels.resizeBilinearBackward(gy, inputShape: [4, 6, 7, 9]),
            ]
        }
        let one = Threads.withCount(1, run), two = Threads.withCount(2, run)
        #expect(one.count == two.count)
        for (i, (a, b)) in zip(one, two).enumerated() { #expect(a == b, "kernel #\(i) differs between 1 and 2 threads") }
    }
}
