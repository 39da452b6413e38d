import Autograd
import Foundation
import Models
import NN
import Random
import TensorCore
import Testing
import TestSupport

/// Reference attention's sets computed as the mask says (`Attention.referenceSets`, Sources/Models/ReferenceSetAttention.swift)
/// against the masked coupled attention it replaces (`coupled(_:setSize:mask:)` with `ReferenceSetMask.additive`, itself
/// tested against the NumPy golden in CoupledAttentionTests): the same output and the same gradients for every parameter
/// and the input, with one and two references per set, a partial foreground and a bias. Tolerance 1e-5 absolute on outputs
/// and gradients of O(1) (float sums grouped differently; measured below 1e-6), plus finite differences of its own.
struct ReferenceSetAttentionTests {
    /// 2 sets, a 4x4 level (L = 16), foreground at 8x8: reference r's left (r + 2) columns, bias 0.5.
    static func mask(_ k: Int) -> ReferenceSetMask {
        var fg: [Float] = []
        for r in 0..<(2 * k) {
            for p in 0..<64 { fg.append(p % 8 < r + 2 ? 1 : 0) }
        }
        return ReferenceSetMask(foreground: Tensor(shape: [2 * k, 8, 8], scalars: fg), bias: 0.5, referencesPerSet: k)
    }

    static func gradients(_ a: Attention, _ x: Tensor, weights w: Tensor, _ f: (Variable) -> Variable) -> [String: [Float]] {
        for (_, p) in a.namedParameters() { p.grad = nil }
        let xv = Variable(x, requiresGrad: true)
        (f(xv) * Variable(w)).sum().backward()
        var out = Dictionary(uniqueKeysWithValues: a.namedParameters().map { ($0.0, $0.1.grad!.scalars) })
        out["x"] = xv.grad!.scalars
        return out
    }

    @Test(arguments: [1, 2])
    func equalsTheMaskedCoupledAttention(referencesPerSet k: Int) {
        let a = Attention(queryDim: 8, heads: 2, headDim: 4, key: RNGKey(seed: 3))
        let m = Self.mask(k), s = k + 1
        let x = Init.normal([2 * s, 16, 8], key: RNGKey(seed: 4)), w = Init.normal([2 * s, 16, 8], key: RNGKey(seed: 5))
        let full = m.additive(height: 4, width: 4), bias = m.keyBias(height: 4, width: 4)
        let masked = withNoGrad { a.coupled(Variable(x), setSize: s, mask: full) }.value
        let split = withNoGrad { a.referenceSets(Variable(x), referencesPerSet: k, keyBias: bias) }.value
        #expect(split.shape == masked.shape)
        let worst = zip(split.scalars, masked.scalars).map { abs($0 - $1) }.max()!
        #expect(worst < 1e-5, "outputs differ by \(worst)")
        let g1 = Self.gradients(a, x, weights: w) { a.coupled($0, setSize: s, mask: full) }
        let g2 = Self.gradients(a, x, weights: w) { a.referenceSets($0, referencesPerSet: k, keyBias: bias) }
        #expect(Set(g1.keys) == Set(g2.keys) && g1.count == 6)
        for (name, g) in g1 {
            let d = zip(g, g2[name]!).map { abs($0 - $1) }.max()!
            #expect(d < 1e-5, "\(name): gradients differ by \(d)")
        }
        // The references' rows are lone passes: a reference's output is its plain self-attention.
        let lone = withNoGrad { a(Variable(Tensor(shape: [1, 16, 8], scalars: Array(x.scalars[0..<128])))) }.value
        #expect(zip(lone.scalars, split.scalars[0..<128]).map { abs($0 - $1) }.max()! < 1e-6)
        // The image reads its references: moving a reference's foreground token moves the image's output.
        var y = x
        let column = 0   // reference 0's left column is foreground
        for c in 0..<8 { y.scalars[column * 8 + c] += 1 }
        let moved = withNoGrad { a.referenceSets(Variable(y), referencesPerSet: k, keyBias: bias) }.value
        let image = (k * 128)..<(s * 128)
        #expect(zip(moved.scalars[image], split.scalars[image]).map { abs($0 - $1) }.max()! > 1e-4)
    }

    /// Finite differences through the split form directly (TestSupport.parameterGradCheck, the tolerance of
    /// CoupledAttentionTests.gradientsMatchFiniteDifferences).
    @Test func gradientsMatchFiniteDifferences() {
        let a = Attention(queryDim: 8, heads: 2, headDim: 4, key: RNGKey(seed: 3))
        let m = Self.mask(1)
        let x = Init.normal([4, 16, 8], key: RNGKey(seed: 4))
        let bias = m.keyBias(height: 4, width: 4)
        let checks = parameterGradCheck(a.namedParameters(), inputs: [x], h: 1e-2, richardson: true, normal: true,
                                        rtol: 1e-3, atol: 1e-5) { v in a.referenceSets(v[0], referencesPerSet: 1, keyBias: bias) }
        #expect(checks == 6)
    }
}
