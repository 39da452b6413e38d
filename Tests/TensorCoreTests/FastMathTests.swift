import Foundation
import Testing
@testable import TensorCore

@Suite struct FastMathTests {
    @Test func fastExpMatchesDoubleExp() {
        var worst = 0.0, worstAt: Float = 0
        var x: Float = -87
        while x < 88 {
            let ref = Foundation.exp(Double(x))
            let rel = abs(Double(fastExp(x)) - ref) / ref
            if rel > worst { worst = rel; worstAt = x }
            x += 0.0137
        }
        #expect(worst < 3e-7, "max relative error \(worst) at x = \(worstAt)")
        #expect(fastExp(0) == 1)
        #expect(fastExp(-100) == 0 && fastExp(-.infinity) == 0)
        #expect(fastExp(100) == .infinity && fastExp(.infinity) == .infinity)
        #expect(fastExp(.nan).isNaN)
    }

    @Test func fastErfMatchesDoubleErf() {
        var worst = 0.0, worstAt: Float = 0
        var x: Float = -6
        while x < 6 {
            let err = abs(Double(fastErf(x)) - Foundation.erf(Double(x)))
            if err > worst { worst = err; worstAt = x }
            x += 0.00513
        }
        #expect(worst < 4e-7, "max absolute error \(worst) at x = \(worstAt)")
        #expect(fastErf(0) == 0 && fastErf(10) == 1 && fastErf(-10) == -1)
    }

    @Test func fastTanhMatchesDoubleTanh() {
        var worst = 0.0, worstAt: Float = 0
        var x: Float = -12
        while x < 12 {
            let err = abs(Double(fastTanh(x)) - Foundation.tanh(Double(x)))
            if err > worst { worst = err; worstAt = x }
            x += 0.00731
        }
        #expect(worst < 2e-7, "max absolute error \(worst) at x = \(worstAt)")
        for tiny: Float in [1e-3, 1e-5, -3e-6] {
            #expect(abs(fastTanh(tiny) - tiny) <= 1e-6 * abs(tiny), "relative precision near 0 at \(tiny)")
        }
        #expect(fastTanh(50) == 1 && fastTanh(-50) == -1)
    }
}
