import Autograd
import Testing
import TensorCore
@testable import PatchQuality

/// The grid permutations on index grids, against NumPy's rot90/fliplr/flipud written out by hand.
@Suite struct GridTransformTests {
    // a = np.arange(9).reshape(3, 3) = [[0,1,2],[3,4,5],[6,7,8]]
    static let expected: [GridTransform: [Int]] = [
        .identity: [0, 1, 2, 3, 4, 5, 6, 7, 8],
        .rot90: [2, 5, 8, 1, 4, 7, 0, 3, 6],      // np.rot90(a, 1)
        .rot180: [8, 7, 6, 5, 4, 3, 2, 1, 0],     // np.rot90(a, 2)
        .rot270: [6, 3, 0, 7, 4, 1, 8, 5, 2],     // np.rot90(a, 3)
        .hflip: [2, 1, 0, 5, 4, 3, 8, 7, 6],      // np.fliplr(a)
        .vflip: [6, 7, 8, 3, 4, 5, 0, 1, 2],      // np.flipud(a)
    ]

    @Test(arguments: GridTransform.allCases)
    func matchesNumPyOnAThreeByThreeIndexGrid(_ t: GridTransform) {
        #expect(t.permutation(side: 3) == Self.expected[t]!)
    }

    @Test func groupLaws() {
        func compose(_ a: [Int], _ b: [Int]) -> [Int] { a.map { b[$0] } }  // apply b, then a
        let s = 5
        let id = GridTransform.identity.permutation(side: s)
        let r90 = GridTransform.rot90.permutation(side: s)
        #expect(compose(r90, r90) == GridTransform.rot180.permutation(side: s))
        #expect(compose(r90, compose(r90, r90)) == GridTransform.rot270.permutation(side: s))
        #expect(compose(r90, GridTransform.rot270.permutation(side: s)) == id)
        for t in [GridTransform.hflip, .vflip, .rot180] {
            #expect(compose(t.permutation(side: s), t.permutation(side: s)) == id)
        }
        for t in GridTransform.allCases { #expect(t.permutation(side: s).sorted() == id) }
    }

    /// Pixels and tokens move together: average-pooling p x p patches of T(image) gives T of the
    /// pooled grid, exactly (the pooling only adds the same numbers in another order... so the test
    /// uses integer-valued pixels, whose sums are exact).
    @Test(arguments: GridTransform.allCases)
    func pixelTransformMovesPatchesByTheTokenPermutation(_ t: GridTransform) {
        let s = 8, p = 2, side = s / p
        let img = Tensor(shape: [1, 2, s, s], scalars: (0..<(2 * s * s)).map { Float(($0 * 37) % 101) })
        let pooledOfT = Kernels.avgPool2d(t.apply(toImages: img), kernel: p)                 // [1, 2, 4, 4]
        let pooled = Kernels.avgPool2d(img, kernel: p)
        let tokens = Kernels.permute(pooled.reshaped([1, 2, side * side]), [0, 2, 1])        // [1, N, C]
        let moved = t.apply(toTokens: Variable(tokens), side: side).value
        let back = Kernels.permute(moved, [0, 2, 1]).reshaped([1, 2, side, side])
        #expect(back == pooledOfT)
    }

    @Test func tokenPermutationIsAGatherWithTheInverseGradient() {
        let side = 3, d = 2
        let x = Variable(Tensor(shape: [1, 9, d], scalars: (0..<18).map(Float.init)), requiresGrad: true)
        let y = GridTransform.rot90.apply(toTokens: x, side: side)
        let perm = GridTransform.rot90.permutation(side: side)
        for i in 0..<9 { for j in 0..<d { #expect(y.value[[0, i, j]] == x.value[[0, perm[i], j]]) } }
        let w = Tensor(shape: [1, 9, d], scalars: (0..<18).map { Float($0 * $0) })
        y.backward(seed: w)
        for i in 0..<9 { for j in 0..<d { #expect(x.grad![[0, perm[i], j]] == w[[0, i, j]]) } }
    }
}
