import Foundation

// Elementwise functions as types. The generic kernels in Elementwise.swift are specialised for
// each of these, so the function is inlined (and the loop vectorised) inside the chunk closure
// that `parallelFor` runs on other threads. A closure value captured there instead would stay an
// indirect call per element: measured 10-20x slower on the multi-threaded path.

/// `y = f(x)`.
protocol ElementFn1 { func callAsFunction(_ x: Float) -> Float }
/// `y = f(a, b)`.
protocol ElementFn2 { func callAsFunction(_ a: Float, _ b: Float) -> Float }

enum Fn {
    struct Scale: ElementFn1 { let s: Float; func callAsFunction(_ x: Float) -> Float { x * s } }
    struct AddScalar: ElementFn1 { let s: Float; func callAsFunction(_ x: Float) -> Float { x + s } }
    struct Neg: ElementFn1 { func callAsFunction(_ x: Float) -> Float { -x } }
    struct Exp: ElementFn1 { func callAsFunction(_ x: Float) -> Float { fastExp(x) } }
    struct Log: ElementFn1 { func callAsFunction(_ x: Float) -> Float { Foundation.log(x) } }
    struct Sqrt: ElementFn1 { func callAsFunction(_ x: Float) -> Float { x.squareRoot() } }
    struct Square: ElementFn1 { func callAsFunction(_ x: Float) -> Float { x * x } }
    struct Pow: ElementFn1 { let p: Float; func callAsFunction(_ x: Float) -> Float { Foundation.pow(x, p) } }
    struct Sigmoid: ElementFn1 { func callAsFunction(_ x: Float) -> Float { sigmoidScalar(x) } }
    struct Tanh: ElementFn1 { func callAsFunction(_ x: Float) -> Float { fastTanh(x) } }
    struct Silu: ElementFn1 { func callAsFunction(_ x: Float) -> Float { x * sigmoidScalar(x) } }
    struct Relu: ElementFn1 { func callAsFunction(_ x: Float) -> Float { Swift.max(x, 0) } }
    struct GeluErf: ElementFn1 { func callAsFunction(_ x: Float) -> Float { geluErfScalar(x) } }
    struct GeluTanh: ElementFn1 { func callAsFunction(_ x: Float) -> Float { geluTanhScalar(x) } }

    struct Add: ElementFn2 { func callAsFunction(_ a: Float, _ b: Float) -> Float { a + b } }
    struct Sub: ElementFn2 { func callAsFunction(_ a: Float, _ b: Float) -> Float { a - b } }
    struct Mul: ElementFn2 { func callAsFunction(_ a: Float, _ b: Float) -> Float { a * b } }
    struct Div: ElementFn2 { func callAsFunction(_ a: Float, _ b: Float) -> Float { a / b } }
    struct Max: ElementFn2 { func callAsFunction(_ a: Float, _ b: Float) -> Float { Swift.max(a, b) } }
    struct First: ElementFn2 { func callAsFunction(_ a: Float, _ b: Float) -> Float { a } }

    // Derivatives: (grad, saved) -> dL/dx.
    struct SqrtBackward: ElementFn2 { func callAsFunction(_ g: Float, _ y: Float) -> Float { g / (2 * y) } }
    struct SquareBackward: ElementFn2 { func callAsFunction(_ g: Float, _ x: Float) -> Float { g * 2 * x } }
    struct PowBackward: ElementFn2 {
        let p: Float
        func callAsFunction(_ g: Float, _ x: Float) -> Float { g * p * Foundation.pow(x, p - 1) }
    }
    struct SigmoidBackward: ElementFn2 { func callAsFunction(_ g: Float, _ y: Float) -> Float { g * y * (1 - y) } }
    struct TanhBackward: ElementFn2 { func callAsFunction(_ g: Float, _ y: Float) -> Float { g * (1 - y * y) } }
    struct SiluBackward: ElementFn2 {
        func callAsFunction(_ g: Float, _ x: Float) -> Float {
            let s = sigmoidScalar(x)
            return g * s * (1 + x * (1 - s))
        }
    }
    struct ReluBackward: ElementFn2 { func callAsFunction(_ g: Float, _ x: Float) -> Float { x > 0 ? g : 0 } }
    struct GeluErfBackward: ElementFn2 {
        @inline(__always)   // measured: left to the optimiser it stayed a call per element, unvectorised
        func callAsFunction(_ g: Float, _ x: Float) -> Float {
            let cdf = 0.5 * (1 + fastErf(x * invSqrt2))
            let pdf = invSqrt2Pi * fastExp(-0.5 * x * x)
            return g * (cdf + x * pdf)
        }
    }
    struct GeluTanhBackward: ElementFn2 {
        func callAsFunction(_ g: Float, _ x: Float) -> Float {
            let t = fastTanh(geluTanhC * (x + 0.044715 * x * x * x))
            return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * geluTanhC * (1 + 3 * 0.044715 * x * x))
        }
    }
    struct ScaledDifference: ElementFn2 { let c: Float; func callAsFunction(_ a: Float, _ b: Float) -> Float { c * (a - b) } }
}
