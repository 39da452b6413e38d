import Testing
import TestSupport
@testable import TensorCore

@Suite struct ConvTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var x: [Int], w: [Int], stride: (Int, Int), pad: (Int, Int), bias: Bool
        var testDescription: String { "x\(x) w\(w) s\(stride) p\(pad) bias \(bias)" }
    }

    static let cases: [Case] = [
        Case(x: [2, 5, 7, 6], w: [3, 5, 3, 3], stride: (1, 1), pad: (1, 1), bias: true),
        Case(x: [2, 5, 7, 6], w: [4, 5, 3, 3], stride: (2, 2), pad: (1, 1), bias: false),
        Case(x: [1, 3, 9, 8], w: [2, 3, 2, 3], stride: (2, 1), pad: (0, 2), bias: true),
        Case(x: [2, 5, 4, 3], w: [6, 5, 1, 1], stride: (1, 1), pad: (0, 0), bias: true),
        Case(x: [1, 2, 5, 5], w: [3, 2, 5, 5], stride: (3, 3), pad: (2, 2), bias: false),
        Case(x: [1, 3, 6, 5], w: [2, 3, 2, 3], stride: (1, 1), pad: (1, 0), bias: true),   // flipped-kernel dx path
        Case(x: [2, 3, 4, 5], w: [2, 3, 1, 1], stride: (1, 1), pad: (1, 1), bias: false),  // padded 1x1: col2im path
        // Image grouping (Kernels.convColumnTarget = 256 columns): 100 columns -> groups of 2 and a
        // partial group of 1; 289 columns -> one image per GEMM.
        Case(x: [3, 2, 10, 10], w: [3, 2, 3, 3], stride: (1, 1), pad: (1, 1), bias: true),
        Case(x: [3, 2, 20, 20], w: [3, 2, 3, 3], stride: (2, 2), pad: (1, 1), bias: false),
        Case(x: [3, 2, 10, 10], w: [2, 2, 1, 1], stride: (1, 1), pad: (0, 0), bias: true),
        Case(x: [2, 2, 17, 17], w: [3, 2, 1, 1], stride: (1, 1), pad: (0, 0), bias: true),
        Case(x: [2, 1, 31, 33], w: [2, 1, 3, 3], stride: (1, 1), pad: (1, 1), bias: false),
        // >= 4 image groups: the batch-parallel path (ConvImageGroups.swift), with a partial last
        // group (9 images in groups of 2), one image per group, strided, and pointwise.
        Case(x: [9, 2, 10, 10], w: [3, 2, 3, 3], stride: (1, 1), pad: (1, 1), bias: true),
        Case(x: [5, 3, 17, 17], w: [4, 3, 3, 3], stride: (1, 1), pad: (1, 1), bias: false),
        Case(x: [8, 2, 20, 20], w: [3, 2, 3, 3], stride: (2, 2), pad: (1, 1), bias: true),
        Case(x: [5, 2, 17, 17], w: [3, 2, 1, 1], stride: (1, 1), pad: (0, 0), bias: true),
    ]

    @Test func imageGroupPathGivesTheSameBitsForOneAndTwoThreads() {
        var rng = TestRNG(state: 161)
        let x = rng.tensor([9, 3, 10, 10]), w = rng.tensor([4, 3, 3, 3]), b = rng.tensor([4]), g = rng.tensor([9, 4, 10, 10])
        #expect(Kernels.usesImageGroupPath(Kernels.convGeometry(x.shape, w.shape, stride: (1, 1), padding: (1, 1), "test"), batch: 9))
        func run() -> [Tensor] {
            [Kernels.conv2d(x, weight: w, bias: b, padding: (1, 1)),
             Kernels.conv2dBackwardWeight(g, input: x, weightShape: w.shape, padding: (1, 1)),
             Kernels.conv2dBackwardData(g, weight: w, inputShape: x.shape, padding: (1, 1))]
        }
        let one = Threads.withCount(1) { run() }, two = Threads.withCount(2) { run() }
        #expect(one == two)
    }

    @Test(arguments: cases)
    func convForwardAndBackwardMatchDirectLoops(_ c: Case) {
        var rng = TestRNG(state: 31)
        let x = rng.tensor(c.x), w = rng.tensor(c.w), b = c.bias ? rng.tensor([c.w[0]]) : nil
        let y = Kernels.conv2d(x, weight: w, bias: b, stride: c.stride, padding: c.pad)
        expectClose(y, Reference.conv2d(x, w, b, stride: c.stride, padding: c.pad), atol: 1e-4, rtol: 1e-4, "forward")
        let g = rng.tensor(y.shape)
        let ref = Reference.conv2dBackward(g, x, w, stride: c.stride, padding: c.pad)
        expectClose(Kernels.conv2dBackwardData(g, weight: w, inputShape: x.shape, stride: c.stride, padding: c.pad), ref.dx, atol: 1e-4, rtol: 1e-4, "dx")
        expectClose(Kernels.conv2dBackwardWeight(g, input: x, weightShape: w.shape, stride: c.stride, padding: c.pad), ref.dw, atol: 1e-4, rtol: 1e-4, "dw")
        expectClose(Kernels.conv2dBackwardBias(g), Kernels.sum(g, axes: [0, 2, 3]), atol: 1e-4, rtol: 1e-4, "dbias")
    }

    /// Winograd F(2x2, 3x3) (3x3, stride 1, padding 1) against the im2col path it replaced: forward,
    /// weight gradient, and the data gradient (Winograd's transposed products against the im2col
    /// convolution with the flipped kernel).
    /// Shapes: odd and even sizes (a cut-off last tile row and column), SIMD8 and SIMD4 bodies with
    /// and without a scalar remainder, one and several images per group, a partial last group.
    @Test(arguments: [[5, 3, 9, 15], [16, 4, 3, 16], [9, 2, 16, 16], [3, 2, 1, 17], [2, 3, 2, 33], [1, 5, 32, 32],
                      [16, 4, 8, 8], [2, 3, 5, 11]])
    func winogradMatchesIm2col(_ xShape: [Int]) {
        var rng = TestRNG(state: 171)
        let x = rng.tensor(xShape), w = rng.tensor([6, xShape[1], 3, 3]), b = rng.tensor([6])
        let g = Kernels.convGeometry(x.shape, w.shape, stride: (1, 1), padding: (1, 1), "test")
        #expect(Kernels.usesWinograd(g))
        let y = Kernels.conv2d(x, weight: w, bias: b, padding: (1, 1))
        expectClose(y, Kernels.conv2dByIm2col(x, weight: w, bias: b, g), atol: 1e-5, rtol: 1e-5, "forward")
        let dy = rng.tensor(y.shape)
        expectClose(Kernels.conv2dBackwardWeight(dy, input: x, weightShape: w.shape, padding: (1, 1)),
                    Kernels.conv2dBackwardWeightByIm2col(dy, input: x, weightShape: w.shape, g), atol: 1e-4, rtol: 1e-5, "dw")
        let flipped = Kernels.flippedTransposedKernel(w)
        expectClose(Kernels.conv2dBackwardData(dy, weight: w, inputShape: x.shape, padding: (1, 1)),
                    Kernels.conv2dByIm2col(dy, weight: flipped, bias: nil,
                                           Kernels.convGeometry(dy.shape, flipped.shape, stride: (1, 1), padding: (1, 1), "test")),
                    atol: 1e-5, rtol: 1e-5, "dx")
        // Both gradients from one transform of dy: the same bits as asking for each alone.
        let both = Kernels.conv2dBackward(dy, input: x, weight: w, padding: (1, 1), data: true, weightGradient: true)
        #expect(both.dx == Kernels.conv2dBackwardData(dy, weight: w, inputShape: x.shape, padding: (1, 1)))
        #expect(both.dw == Kernels.conv2dBackwardWeight(dy, input: x, weightShape: w.shape, padding: (1, 1)))
        let dataOnly = Kernels.conv2dBackward(dy, input: x, weight: w, padding: (1, 1), data: true, weightGradient: false)
        #expect(dataOnly.dx == both.dx && dataOnly.dw == nil)
    }

    @Test func winogradGivesTheSameBitsForOneAndTwoThreads() {
        var rng = TestRNG(state: 172)
        let x = rng.tensor([9, 3, 10, 16]), w = rng.tensor([4, 3, 3, 3]), b = rng.tensor([4]), g = rng.tensor([9, 4, 10, 16])
        #expect(Kernels.usesWinograd(Kernels.convGeometry(x.shape, w.shape, stride: (1, 1), padding: (1, 1), "test")))
        func run() -> [Tensor] {
            [Kernels.conv2d(x, weight: w, bias: b, padding: (1, 1)),
             Kernels.conv2dBackwardWeight(g, input: x, weightShape: w.shape, padding: (1, 1)),
             Kernels.conv2dBackwardData(g, weight: w, inputShape: x.shape, padding: (1, 1))]
        }
        #expect(Threads.withCount(1) { run() } == Threads.withCount(2) { run() })
    }

    @Test func winogradBackwardIsTheAdjointOfForward() {
        // Finite differences of <conv(x), g> on the Winograd path, independent of any reference.
        var rng = TestRNG(state: 173)
        let x = rng.tensor([3, 3, 5, 17]), w = rng.tensor([4, 3, 3, 3]), b = rng.tensor([4]), g = rng.tensor([3, 4, 5, 17])
        let dx = Kernels.conv2dBackwardData(g, weight: w, inputShape: x.shape, padding: (1, 1))
        let dw = Kernels.conv2dBackwardWeight(g, input: x, weightShape: w.shape, padding: (1, 1))
        expectGradient(x, analytic: dx, "dx") { dot(Kernels.conv2d($0, weight: w, bias: b, padding: (1, 1)), g) }
        expectGradient(w, analytic: dw, "dw") { dot(Kernels.conv2d(x, weight: $0, bias: b, padding: (1, 1)), g) }
    }

    @Test func convBackwardIsTheAdjointOfForward() {
        // <conv(x), g> differentiated by finite differences, independent of the reference loops.
        var rng = TestRNG(state: 32)
        let x = rng.tensor([2, 3, 5, 7]), w = rng.tensor([4, 3, 3, 3]), b = rng.tensor([4])
        let g = rng.tensor([2, 4, 3, 4])
        let dx = Kernels.conv2dBackwardData(g, weight: w, inputShape: x.shape, stride: (2, 2), padding: (1, 1))
        let dw = Kernels.conv2dBackwardWeight(g, input: x, weightShape: w.shape, stride: (2, 2), padding: (1, 1))
        let db = Kernels.conv2dBackwardBias(g)
        expectGradient(x, analytic: dx, "dx") { dot(Kernels.conv2d($0, weight: w, bias: b, stride: (2, 2), padding: (1, 1)), g) }
        expectGradient(w, analytic: dw, "dw") { dot(Kernels.conv2d(x, weight: $0, bias: b, stride: (2, 2), padding: (1, 1)), g) }
        expectGradient(b, analytic: db, "db") { dot(Kernels.conv2d(x, weight: w, bias: $0, stride: (2, 2), padding: (1, 1)), g) }
    }
}
