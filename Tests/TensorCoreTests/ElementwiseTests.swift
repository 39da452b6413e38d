import Foundation
import Testing
import TestSupport
@testable import TensorCore

@Suite struct ElementwiseTests {
    @Test(arguments: [
        ([3, 5, 7], [3, 5, 7]), ([3, 5, 7], [7]), ([3, 1, 7], [5, 1]), ([1], [3, 5, 7]),
        ([2, 1, 5, 1], [1, 3, 1, 4]), ([], [3, 2]), ([4, 1], [1, 6]),
    ])
    func broadcastBinaryMatchesReference(_ sa: [Int], _ sb: [Int]) {
        var rng = TestRNG(state: 1)
        let a = rng.tensor(sa), b = rng.tensor(sb, 0.5, 2)
        expectClose(Kernels.add(a, b), Reference.binary(a, b, +), "add")
        expectClose(Kernels.sub(a, b), Reference.binary(a, b, -), "sub")
        expectClose(Kernels.mul(a, b), Reference.binary(a, b, *), "mul")
        expectClose(Kernels.div(a, b), Reference.binary(a, b, /), "div")
    }

    @Test func largeBroadcastUsesManyChunks() {
        // Rows of 7 elements, enough rows for several chunks (exercises rowOffsets).
        var rng = TestRNG(state: 2)
        let a = rng.tensor([4000, 3, 7]), b = rng.tensor([3, 1])
        expectClose(Kernels.mul(a, b), Reference.binary(a, b, *), "mul")
    }

    @Test func unaryValues() {
        let x = Tensor(shape: [5], scalars: [-2, -0.5, 0, 0.7, 3])
        for (i, v) in x.scalars.enumerated() {
            let d = Double(v)
            #expect(abs(Kernels.exp(x).scalars[i] - Float(Foundation.exp(d))) < 1e-5 * Float(Foundation.exp(d)) + 1e-6)
            #expect(abs(Kernels.sigmoid(x).scalars[i] - Float(1 / (1 + Foundation.exp(-d)))) < 1e-6)
            #expect(abs(Kernels.silu(x).scalars[i] - Float(d / (1 + Foundation.exp(-d)))) < 1e-6)
            #expect(abs(Kernels.tanh(x).scalars[i] - Float(Foundation.tanh(d))) < 1e-6)
            #expect(abs(Kernels.gelu(x).scalars[i] - Float(0.5 * d * (1 + Foundation.erf(d / 2.0.squareRoot())))) < 1e-6)
            let u = (2 / Double.pi).squareRoot() * (d + 0.044715 * d * d * d)
            #expect(abs(Kernels.gelu(x, approximate: true).scalars[i] - Float(0.5 * d * (1 + Foundation.tanh(u)))) < 1e-6)
            #expect(abs(Kernels.pow(x, 3).scalars[i] - Float(d * d * d)) < 1e-5)
        }
        let p = Tensor(shape: [3], scalars: [0.25, 1, 4])
        #expect(Kernels.sqrt(p).scalars == [0.5, 1, 2])
        #expect(abs(Kernels.log(p).scalars[2] - Float(Foundation.log(4.0))) < 1e-6)
        let extremes = Kernels.sigmoid(Tensor(shape: [2], scalars: [-100, 100])).scalars
        #expect(extremes[0] >= 0 && extremes[0] < 1e-30 && extremes[1] == 1)
    }

    /// Each derivative kernel against a central difference of its forward kernel.
    @Test func unaryDerivativesMatchFiniteDifferences() {
        var rng = TestRNG(state: 3)
        let x = rng.tensor([3, 5, 7], 0.2, 2), w = rng.tensor([3, 5, 7])
        typealias Case = (String, (Tensor) -> Tensor, Tensor)
        let cases: [Case] = [
            ("exp", Kernels.exp, Kernels.expBackward(w, output: Kernels.exp(x))),
            ("log", Kernels.log, Kernels.logBackward(w, input: x)),
            ("sqrt", Kernels.sqrt, Kernels.sqrtBackward(w, output: Kernels.sqrt(x))),
            ("pow", { Kernels.pow($0, 2.5) }, Kernels.powBackward(w, input: x, exponent: 2.5)),
            ("sigmoid", Kernels.sigmoid, Kernels.sigmoidBackward(w, output: Kernels.sigmoid(x))),
            ("tanh", Kernels.tanh, Kernels.tanhBackward(w, output: Kernels.tanh(x))),
            ("silu", Kernels.silu, Kernels.siluBackward(w, input: x)),
            ("gelu", { Kernels.gelu($0) }, Kernels.geluBackward(w, input: x)),
            ("geluTanh", { Kernels.gelu($0, approximate: true) }, Kernels.geluBackward(w, input: x, approximate: true)),
        ]
        for (name, f, g) in cases {
            expectGradient(x, analytic: g, name) { dot(f($0), w) }
        }
    }

    @Test func binaryBackwardReducesBroadcastAxes() {
        var rng = TestRNG(state: 4)
        let a = rng.tensor([3, 5, 7]), b = rng.tensor([5, 1], 0.5, 2), g = rng.tensor([3, 5, 7])
        let (ga, gb) = Kernels.divBackward(g, a: a, b: b)
        #expect(ga.shape == a.shape && gb.shape == b.shape)
        expectGradient(a, analytic: ga) { dot(Kernels.div($0, b), g) }
        expectGradient(b, analytic: gb) { dot(Kernels.div(a, $0), g) }
        let (ma, mb) = Kernels.mulBackward(g, a: a, b: b)
        expectGradient(a, analytic: ma) { dot(Kernels.mul($0, b), g) }
        expectGradient(b, analytic: mb) { dot(Kernels.mul(a, $0), g) }
        let (_, sb) = Kernels.subBackward(g, aShape: a.shape, bShape: b.shape)
        expectGradient(b, analytic: sb) { dot(Kernels.sub(a, $0), g) }
    }
}
