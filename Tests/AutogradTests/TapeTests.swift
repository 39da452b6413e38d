import Testing
import TensorCore
@testable import Autograd

/// The tape itself: accumulation, shared subexpressions, grad mode, valueAndGrad.
@Suite struct TapeTests {
    @Test func gradientsAccumulateUntilZeroed() {
        let x = Variable(Tensor(shape: [2], scalars: [1, 2]), requiresGrad: true)
        (x * x).sum().backward()
        #expect(x.grad?.scalars == [2, 4])
        (x * x).sum().backward()
        #expect(x.grad?.scalars == [4, 8])
        x.zeroGrad()
        #expect(x.grad == nil)
        x.scaled(3).sum().backward()
        #expect(x.grad?.scalars == [3, 3])
    }

    @Test func sharedSubexpressionSumsBothPaths() {
        // y = a*a + a  (a used three times through a diamond), dy/da = 2a + 1.
        let a = Variable(Tensor(shape: [3], scalars: [1, -2, 0.5]), requiresGrad: true)
        let s = a * a
        (s + a).sum().backward()
        #expect(a.grad?.scalars == [3, -3, 2])
    }

    @Test func constantsGetNoGradientAndNoGraph() {
        let c = Variable(Tensor(shape: [2], scalars: [1, 1]))
        let x = Variable(Tensor(shape: [2], scalars: [3, 4]), requiresGrad: true)
        let y = (c * x).sum()
        y.backward()
        #expect(c.grad == nil)
        #expect((c + c).requiresGrad == false)
        #expect(x.detached().requiresGrad == false)
    }

    @Test func noGradBuildsNoGraph() {
        let x = Variable(Tensor(shape: [2], scalars: [3, 4]), requiresGrad: true)
        let y = withNoGrad { (x * x).sum() }
        #expect(y.requiresGrad == false && y.isLeaf)
        #expect(GradMode.isEnabled)
        let z = (x * x).sum()
        #expect(z.requiresGrad && !z.isLeaf)
    }

    @Test func noGradIsPerTask() async {
        // One task in no-grad mode does not switch off recording in a concurrent task.
        await withTaskGroup(of: Bool.self) { group in
            group.addTask { withNoGrad { (0..<200).allSatisfy { _ in !GradMode.isEnabled } } }
            group.addTask { (0..<200).allSatisfy { _ in GradMode.isEnabled } }
            for await ok in group { #expect(ok) }
        }
    }

    @Test func valueAndGradReturnsThisCallOnly() {
        let w = Variable(Tensor(shape: [2], scalars: [1, 2]), requiresGrad: true)
        let unused = Variable(Tensor(shape: [3], scalars: [0, 0, 0]), requiresGrad: true)
        w.grad = Tensor(shape: [2], scalars: [10, 10])
        let (v, g) = valueAndGrad(of: { (w * w).sum().scaled(0.5) }, at: [w, unused])
        #expect(v == 2.5)
        #expect(g[0].scalars == [1, 2])
        #expect(g[1] == Tensor(zeros: [3]))
        #expect(w.grad?.scalars == [11, 12])   // accumulated onto the earlier gradient
        #expect(unused.grad == nil)
    }

    @Test func deepChainDoesNotOverflow() {
        let x = Variable(Tensor(scalar: 1), requiresGrad: true)
        var y = x
        for _ in 0..<20_000 { y = y.scaled(1) }
        y.backward()
        #expect(x.grad?.scalars == [1])
    }
}
