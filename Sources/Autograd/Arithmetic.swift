import TensorCore

// Broadcasting arithmetic (NumPy rules). Each rule reduces the broadcast gradient back to the
// input's shape with `reduceToShape`.

extension Variable {
    /// a + b with broadcasting. d/da = g, d/db = g (each summed to its operand's shape).
    public static func + (a: Variable, b: Variable) -> Variable {
        let sa = a.shape, sb = b.shape
        return record("add", Kernels.add(a.value, b.value), inputs: [a, b]) { g in
            [Kernels.reduceToShape(g, sa), Kernels.reduceToShape(g, sb)]
        }
    }

    /// a - b with broadcasting. d/da = g, d/db = -g.
    public static func - (a: Variable, b: Variable) -> Variable {
        let sa = a.shape, sb = b.shape
        return record("sub", Kernels.sub(a.value, b.value), inputs: [a, b]) { g in
            [Kernels.reduceToShape(g, sa), Kernels.reduceToShape(Kernels.scale(g, -1), sb)]
        }
    }

    /// a * b with broadcasting. d/da = g b, d/db = g a.
    public static func * (a: Variable, b: Variable) -> Variable {
        let av = a.value, bv = b.value
        return record("mul", Kernels.mul(av, bv), inputs: [a, b]) { g in
            [a.requiresGrad ? Kernels.reduceToShape(Kernels.mul(g, bv), av.shape) : nil,
             b.requiresGrad ? Kernels.reduceToShape(Kernels.mul(g, av), bv.shape) : nil]
        }
    }

    /// a / b with broadcasting. d/da = g / b, d/db = -g a / b^2 = -g y / b.
    public static func / (a: Variable, b: Variable) -> Variable {
        let av = a.value, bv = b.value
        let y = Kernels.div(av, bv)
        return record("div", y, inputs: [a, b]) { g in
            [a.requiresGrad ? Kernels.reduceToShape(Kernels.div(g, bv), av.shape) : nil,
             b.requiresGrad
                ? Kernels.reduceToShape(Kernels.scale(Kernels.div(Kernels.mul(g, y), bv), -1), bv.shape) : nil]
        }
    }

    /// -a.
    public static prefix func - (a: Variable) -> Variable { a.scaled(-1) }

    /// a * s for a constant scalar s. d/da = s g.
    public func scaled(_ s: Float) -> Variable {
        Variable.record("scale", Kernels.scale(value, s), inputs: [self]) { g in [Kernels.scale(g, s)] }
    }

    /// a + s for a constant scalar s. d/da = g.
    public func adding(_ s: Float) -> Variable {
        Variable.record("addScalar", Kernels.addScalar(value, s), inputs: [self]) { g in [g] }
    }

    public static func * (a: Variable, s: Float) -> Variable { a.scaled(s) }
    public static func * (s: Float, a: Variable) -> Variable { a.scaled(s) }
    public static func + (a: Variable, s: Float) -> Variable { a.adding(s) }
    public static func - (a: Variable, s: Float) -> Variable { a.adding(-s) }
    public static func / (a: Variable, s: Float) -> Variable { a.scaled(1 / s) }
}
