import Testing
import TensorCore
@testable import Autograd
import TestSupport

/// Finite-difference checks of the broadcasting arithmetic and unary rules.
@Suite struct ElementwiseGradTests {
    var rng = TestRNG(seed: 11)

    @Test mutating func addBroadcasts() {
        gradCheck([rng.tensor([2, 3, 4]), rng.tensor([3, 1])]) { $0[0] + $0[1] }
    }
    @Test mutating func subBroadcasts() {
        gradCheck([rng.tensor([4]), rng.tensor([2, 3, 4])]) { $0[0] - $0[1] }
    }
    @Test mutating func mulBroadcasts() {
        gradCheck([rng.tensor([2, 1, 4]), rng.tensor([3, 1])]) { $0[0] * $0[1] }
    }
    @Test mutating func divBroadcasts() {
        gradCheck([rng.tensor([2, 3]), rng.tensor([1, 3], 0.5, 2)]) { $0[0] / $0[1] }
    }
    @Test mutating func scalarOps() {
        gradCheck([rng.tensor([5])]) { ($0[0] * 3 + 1 - 0.5) / 2 }
        gradCheck([rng.tensor([5])]) { -$0[0] }
    }
    @Test mutating func exp() { gradCheck([rng.tensor([3, 4])]) { $0[0].exp() } }
    @Test mutating func log() { gradCheck([rng.tensor([3, 4], 0.5, 2)]) { $0[0].log() } }
    @Test mutating func sqrt() { gradCheck([rng.tensor([3, 4], 0.5, 2)]) { $0[0].sqrt() } }
    @Test mutating func pow() { gradCheck([rng.tensor([3, 4], 0.5, 2)]) { $0[0].pow(2.5) } }
    @Test mutating func squared() { gradCheck([rng.tensor([7])]) { $0[0].squared() } }
    @Test mutating func silu() { gradCheck([rng.tensor([3, 4], -3, 3)]) { $0[0].silu() } }
    @Test mutating func geluExact() { gradCheck([rng.tensor([3, 4], -3, 3)]) { $0[0].gelu() } }
    @Test mutating func geluTanh() { gradCheck([rng.tensor([3, 4], -3, 3)]) { $0[0].gelu(approximate: true) } }
    @Test mutating func sigmoid() { gradCheck([rng.tensor([3, 4], -3, 3)]) { $0[0].sigmoid() } }
    @Test func relu() {
        // Values away from the kink at 0 (|x| > 2h|d| with high probability at h = 1e-3).
        let x = Tensor(shape: [6], scalars: [-1.5, -0.4, -0.2, 0.3, 0.8, 2])
        gradCheck([x], h: 1e-3) { $0[0].relu() }
        #expect(Variable(x).relu().value.scalars == [0, 0, 0, 0.3, 0.8, 2])
    }
    @Test mutating func logSigmoid() {
        gradCheck([rng.tensor([2, 3], -4, 4)]) { $0[0].logSigmoid() }
        // Stable where log(sigmoid(x)) underflows: logsig(-100) = -100 - log(1 + e^-100) ~ -100.
        let y = Variable(Tensor(shape: [3], scalars: [-100, 0, 100])).logSigmoid().value.scalars
        #expect(abs(y[0] + 100) < 1e-4 && abs(y[1] + 0.6931472) < 1e-6 && abs(y[2]) < 1e-6, "\(y)")
    }
    @Test mutating func tanh() { gradCheck([rng.tensor([3, 4], -2, 2)]) { $0[0].tanh() } }

    @Test func forwardValues() {
        let x = Variable(Tensor(shape: [3], scalars: [-1, 0, 2]))
        expectClose(x.silu().value, Tensor(shape: [3], scalars: [-0.26894142, 0, 1.7615942]))
        expectClose(x.gelu().value, Tensor(shape: [3], scalars: [-0.15865526, 0, 1.9544997]))
        expectClose(x.gelu(approximate: true).value, Tensor(shape: [3], scalars: [-0.15880801, 0, 1.9545977]))
        let a = Variable(Tensor(shape: [2, 1], scalars: [1, 2])), b = Variable(Tensor(shape: [3], scalars: [10, 20, 30]))
        expectClose((a + b).value, Tensor(shape: [2, 3], scalars: [11, 21, 31, 12, 22, 32]))
    }
}
