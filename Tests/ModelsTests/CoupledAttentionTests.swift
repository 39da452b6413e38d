import Autograd
import Foundation
import Models
import NN
import Random
import TensorCore
import Testing
import TestSupport

/// JeDi's coupled self-attention (`Attention.coupled`, Sources/Models/CoupledSelfAttention.swift) against
/// scripts/golden_jedi_attention.py (float64 NumPy, an explicit loop over sets, heads and queries; never a reshape):
/// 2 sets of 3 images, 2 tokens, 4 channels, 2 heads, inputs and weights from the formulas of the script.
/// Tolerance: atol 1e-6 + rtol 1e-5 per element (the shared default; outputs are O(0.1); measured max error 3.4e-8).
/// The gradient check states its own tolerance.
struct CoupledAttentionTests {
    static func formula(_ shape: [Int], _ f: (Double) -> Double) -> Tensor {
        Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { Float(f(Double($0))) })
    }

    /// The script's attention layer: C = 4, 2 heads of dim 2, weights from its formulas.
    static func layer() -> Attention {
        let a = Attention(queryDim: 4, heads: 2, headDim: 2, key: RNGKey(seed: 1))
        a.toQ.weight.value = formula([4, 4]) { 0.5 * cos(0.7 * $0 + 0.2) }
        a.toK.weight.value = formula([4, 4]) { 0.5 * sin(0.9 * $0 + 0.3) }
        a.toV.weight.value = formula([4, 4]) { 0.5 * cos(1.3 * $0 + 0.5) }
        a.toOut.weight.value = formula([4, 4]) { 0.5 * sin(0.45 * $0 + 0.7) }
        a.toOut.bias!.value = formula([4]) { 0.1 * ($0 + 1) - 0.25 }
        return a
    }

    static let x = formula([6, 2, 4]) { sin(0.37 * $0 + 0.1) }

    /// python3 scripts/golden_jedi_attention.py, "coupled (S = 3)".
    static let golden: [Float] = [
        -0.081838419, -0.125272094, 0.016042374, 0.240702582, -0.045120537, -0.148638718, -0.010057617, 0.275929151,
        -0.124960979, -0.144747445, 0.068014615, 0.236561529, -0.154881581, -0.093012747, 0.074426754, 0.181913128,
        -0.098141428, -0.113119179, 0.026823047, 0.223650883, -0.044691441, -0.146403649, -0.011502337, 0.274350568,
        -0.142103966, 0.019294186, 0.010616397, 0.098601888, -0.174536817, 0.049116831, 0.029497714, 0.060199494,
        -0.154258377, 0.064364931, 0.002290474, 0.057314478, -0.105183911, 0.026636526, -0.029640048, 0.109552245,
        -0.130243736, 0.011991702, 0.002074448, 0.109785870, -0.172871332, 0.043293741, 0.030478266, 0.065577017,
    ]

    @Test func matchesTheNumPyReference() {
        let y = withNoGrad { Self.layer().coupled(Variable(Self.x), setSize: 3) }
        #expect(y.shape == [6, 2, 4])
        expectClose(y.value.scalars, Self.golden, "coupled attention vs golden_jedi_attention.py")
        // The reference's uncoupled output differs by up to 0.40: the golden values test the coupling.
        let single = withNoGrad { Self.layer()(Variable(Self.x)) }
        #expect(zip(single.value.scalars, Self.golden).map { abs($0 - $1) }.max()! > 0.3)
    }

    /// Set size 1 is the plain self-attention call, bit for bit.
    @Test func setSizeOneIsPlainSelfAttention() {
        let a = Self.layer()
        let plain = withNoGrad { a(Variable(Self.x)) }, coupled = withNoGrad { a.coupled(Variable(Self.x), setSize: 1) }
        let same = plain.value.scalars == coupled.value.scalars
        #expect(same, "set size 1 must be the plain call bit for bit")
    }

    /// A set of identical images attends to S copies of the same keys: the softmax weights split evenly over
    /// the copies, so every image gets the single-image output (float32 sums in another order: atol 1e-6, rtol 1e-5).
    @Test func identicalImagesGiveTheSingleImageOutputEach() {
        let a = Self.layer()
        let one = Tensor(shape: [1, 2, 4], scalars: Array(Self.x.scalars[0..<8]))
        let set = Tensor(shape: [3, 2, 4], scalars: Array(repeating: one.scalars, count: 3).flatMap { $0 })
        let y = withNoGrad { a.coupled(Variable(set), setSize: 3) }.value
        let single = withNoGrad { a(Variable(one)) }.value
        for s in 0..<3 {
            expectClose(Array(y.scalars[(s * 8)..<((s + 1) * 8)]), single.scalars, "image \(s) of an identical set")
        }
    }

    /// Finite differences through the coupled attention, every parameter and the input (TestSupport.parameterGradCheck:
    /// L = sum(y * w), random normal directions, Richardson-extrapolated central differences at h = 1e-2 and 5e-3,
    /// accumulated in Double). Tolerance |a - n| <= 1e-5 (1 + S) + 1e-3 max(|a|, |n|), S = sum |y * w|: a tenth of
    /// the shared rtol and atol, as the layer is small and smooth. Measured: worst relative error 7.8e-5 (to_q.weight,
    /// |a| 0.40); every check passes at rtol 1e-4 with a floor of 1e-7. The set's images are random (not the formula's)
    /// so that the softmax is not near-uniform.
    @Test func gradientsMatchFiniteDifferences() {
        let a = Attention(queryDim: 8, heads: 2, headDim: 4, key: RNGKey(seed: 3))
        let x = Init.normal([4, 5, 8], key: RNGKey(seed: 4))     // 2 sets of 2 images, 5 tokens
        let checks = parameterGradCheck(a.namedParameters(), inputs: [x], h: 1e-2, richardson: true, normal: true,
                                        rtol: 1e-3, atol: 1e-5) { v in a.coupled(v[0], setSize: 2) }
        #expect(checks == 6)   // to_q, to_k, to_v, to_out.0 weight and bias, and x
    }

    /// The coupling is real: the output for image 0 moves when image 1 of its set changes, not when another set does.
    @Test func imagesInteractOnlyWithinTheirSet() {
        let a = Attention(queryDim: 8, heads: 2, headDim: 4, key: RNGKey(seed: 3))
        var x = Init.normal([4, 5, 8], key: RNGKey(seed: 4))
        let y0 = withNoGrad { a.coupled(Variable(x), setSize: 2) }.value
        for i in (2 * 40)..<(3 * 40) { x.scalars[i] += 0.5 }   // image 0 of set 1
        let y1 = withNoGrad { a.coupled(Variable(x), setSize: 2) }.value
        let untouched = Array(y0.scalars[0..<80]) == Array(y1.scalars[0..<80])
        #expect(untouched, "set 0 must not see set 1")
        #expect(zip(y0.scalars[120..<160], y1.scalars[120..<160]).map { abs($0 - $1) }.max()! > 1e-3, "image 1 of set 1 must")
    }
}
