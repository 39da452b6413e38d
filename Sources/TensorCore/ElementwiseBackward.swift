/// Derivative kernels of the elementwise ops: each returns `dL/dx` given `grad = dL/dy` and the
/// saved input `x` and/or output `y`. Binary ops return gradients already summed back to the
/// operands' shapes (`reduceToShape`), so broadcasting is handled here, not in the autograd.
extension Kernels {
    /// `(dL/da, dL/db)` of `a + b`.
    public static func addBackward(_ grad: Tensor, aShape: [Int], bShape: [Int]) -> (Tensor, Tensor) {
        (reduceToShape(grad, aShape), reduceToShape(grad, bShape))
    }
    /// `(dL/da, dL/db)` of `a - b`.
    public static func subBackward(_ grad: Tensor, aShape: [Int], bShape: [Int]) -> (Tensor, Tensor) {
        (reduceToShape(grad, aShape), neg(reduceToShape(grad, bShape)))
    }
    /// `(g * b, g * a)` reduced to the operands' shapes, for `a * b`.
    public static func mulBackward(_ grad: Tensor, a: Tensor, b: Tensor) -> (Tensor, Tensor) {
        (reduceToShape(mul(grad, b), a.shape), reduceToShape(mul(grad, a), b.shape))
    }
    /// `(g / b, -g a / b^2)` reduced to the operands' shapes, for `a / b`.
    public static func divBackward(_ grad: Tensor, a: Tensor, b: Tensor) -> (Tensor, Tensor) {
        let ga = div(grad, b)
        let gb = neg(div(mul(ga, a), b))
        return (reduceToShape(ga, a.shape), reduceToShape(gb, b.shape))
    }

    /// `g * y` for `y = exp(x)`.
    public static func expBackward(_ grad: Tensor, output y: Tensor) -> Tensor { map2(grad, y, "expBackward", Fn.Mul()) }
    /// `g / x` for `y = log(x)`.
    public static func logBackward(_ grad: Tensor, input x: Tensor) -> Tensor { map2(grad, x, "logBackward", Fn.Div()) }
    /// `g / (2 y)` for `y = sqrt(x)`.
    public static func sqrtBackward(_ grad: Tensor, output y: Tensor) -> Tensor {
        map2(grad, y, "sqrtBackward", Fn.SqrtBackward())
    }
    /// `g p x^(p-1)` for `y = x^p`.
    public static func powBackward(_ grad: Tensor, input x: Tensor, exponent p: Float) -> Tensor {
        if p == 2 { return map2(grad, x, "powBackward", Fn.SquareBackward()) }
        return map2(grad, x, "powBackward", Fn.PowBackward(p: p))
    }
    /// `g y (1 - y)` for `y = sigmoid(x)`.
    public static func sigmoidBackward(_ grad: Tensor, output y: Tensor) -> Tensor {
        map2(grad, y, "sigmoidBackward", Fn.SigmoidBackward())
    }
    /// `g (1 - y^2)` for `y = tanh(x)`.
    public static func tanhBackward(_ grad: Tensor, output y: Tensor) -> Tensor {
        map2(grad, y, "tanhBackward", Fn.TanhBackward())
    }
    /// `g s (1 + x (1 - s))`, `s = sigmoid(x)`, for `y = silu(x)`.
    public static func siluBackward(_ grad: Tensor, input x: Tensor) -> Tensor {
        map2(grad, x, "siluBackward", Fn.SiluBackward())
    }
    /// `g [x > 0]` for `y = relu(x)`.
    public static func reluBackward(_ grad: Tensor, input x: Tensor) -> Tensor {
        map2(grad, x, "reluBackward", Fn.ReluBackward())
    }
    /// GELU derivative. Exact: `Phi(x) + x phi(x)`. Tanh form:
    /// `0.5 (1 + t) + 0.5 x (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2)`, `t = tanh(sqrt(2/pi)(x + 0.044715 x^3))`.
    public static func geluBackward(_ grad: Tensor, input x: Tensor, approximate: Bool = false) -> Tensor {
        approximate ? map2(grad, x, "geluBackward", Fn.GeluTanhBackward()) : map2(grad, x, "geluBackward", Fn.GeluErfBackward())
    }
}
