import Foundation
import TensorCore

/// The one place where Autograd meets the kernels: every op rule calls `Kernels.*`, and each entry
/// forwards to a TensorCore kernel. Entries still marked INTERIM forward to the naive loops in
/// `Interim/` until TensorCore's kernel lands (see the final report of the autograd branch).
enum Kernels {
    // MARK: elementwise (NumPy broadcasting)
    static func add(_ a: Tensor, _ b: Tensor) -> Tensor { Interim.binary(a, b, +) }            // INTERIM
    static func sub(_ a: Tensor, _ b: Tensor) -> Tensor { Interim.binary(a, b, -) }            // INTERIM
    static func mul(_ a: Tensor, _ b: Tensor) -> Tensor { Interim.binary(a, b, *) }            // INTERIM
    static func div(_ a: Tensor, _ b: Tensor) -> Tensor { Interim.binary(a, b, /) }            // INTERIM
    static func scale(_ a: Tensor, _ s: Float) -> Tensor { Interim.unary(a) { $0 * s } }      // INTERIM
    static func reduceToShape(_ g: Tensor, _ shape: [Int]) -> Tensor { Interim.reduceToShape(g, shape) } // INTERIM
    static func broadcast(_ g: Tensor, to shape: [Int]) -> Tensor { add(Tensor(zeros: shape), g) }

    static func exp(_ x: Tensor) -> Tensor { Interim.unary(x, Foundation.exp) }                // INTERIM
    static func log(_ x: Tensor) -> Tensor { Interim.unary(x, Foundation.log) }                // INTERIM
    static func sqrt(_ x: Tensor) -> Tensor { Interim.unary(x) { $0.squareRoot() } }          // INTERIM
    static func pow(_ x: Tensor, _ p: Float) -> Tensor { Interim.unary(x) { Foundation.pow($0, p) } } // INTERIM
    static func sigmoid(_ x: Tensor) -> Tensor { Interim.unary(x) { 1 / (1 + Foundation.exp(-$0)) } } // INTERIM
    static func sigmoidBackward(_ y: Tensor, _ g: Tensor) -> Tensor { Interim.zip2(y, g) { $1 * $0 * (1 - $0) } } // INTERIM
    static func tanh(_ x: Tensor) -> Tensor { Interim.unary(x, Foundation.tanh) }              // INTERIM
    static func tanhBackward(_ y: Tensor, _ g: Tensor) -> Tensor { Interim.zip2(y, g) { $1 * (1 - $0 * $0) } } // INTERIM
    static func silu(_ x: Tensor) -> Tensor { Interim.unary(x) { $0 / (1 + Foundation.exp(-$0)) } } // INTERIM
    static func siluBackward(_ x: Tensor, _ g: Tensor) -> Tensor {                             // INTERIM
        Interim.zip2(x, g) { x, g in let s = 1 / (1 + Foundation.exp(-x)); return g * s * (1 + x * (1 - s)) }
    }
    static func gelu(_ x: Tensor, tanh t: Bool) -> Tensor {                                     // INTERIM
        Interim.unary(x) { x in
            t ? 0.5 * x * (1 + Foundation.tanh(0.7978845608 * (x + 0.044715 * x * x * x)))
              : 0.5 * x * (1 + erf(x / 2.0.squareRoot().float))
        }
    }
    static func geluBackward(_ x: Tensor, _ g: Tensor, tanh t: Bool) -> Tensor {              // INTERIM
        Interim.zip2(x, g) { x, g in
            if t {
                let u = 0.7978845608 * (x + 0.044715 * x * x * x), th = Foundation.tanh(u)
                return g * (0.5 * (1 + th) + 0.5 * x * (1 - th * th) * 0.7978845608 * (1 + 3 * 0.044715 * x * x))
            }
            let cdf = 0.5 * (1 + erf(x / 2.0.squareRoot().float))
            let pdf = Foundation.exp(-0.5 * x * x) / (2 * Float.pi).squareRoot()
            return g * (cdf + x * pdf)
        }
    }

    // MARK: reductions
    static func sum(_ x: Tensor, axes: [Int], keepDims: Bool) -> Tensor { Interim.sum(x, axes: axes, keepDims: keepDims) } // INTERIM
    static func mean(_ x: Tensor, axes: [Int], keepDims: Bool) -> Tensor {
        scale(sum(x, axes: axes, keepDims: keepDims), 1 / Float(axes.map { x.shape[$0] }.reduce(1, *)))
    }
    static func max(_ x: Tensor, axes: [Int], keepDims: Bool) -> (Tensor, [Int]) { Interim.max(x, axes: axes, keepDims: keepDims) } // INTERIM
    static func maxBackward(_ g: Tensor, argmax: [Int], inputShape: [Int], axes: [Int]) -> Tensor { // INTERIM
        var out = [Float](repeating: 0, count: inputShape.reduce(1, *))
        for (o, i) in argmax.enumerated() { out[i] += g.scalars[o] }
        return Tensor(shape: inputShape, scalars: out)
    }

    // MARK: linear algebra, convolution
    static func matmul(_ a: Tensor, _ b: Tensor, transA: Bool, transB: Bool) -> Tensor {      // INTERIM
        Interim.matmul(a, b, transA: transA, transB: transB)
    }
    static func conv2d(_ x: Tensor, _ w: Tensor, bias: Tensor?, stride: Int, padding: Int) -> Tensor { // INTERIM
        Interim.conv2d(x, w, bias: bias, stride: stride, padding: padding)
    }
    static func conv2dBackwardData(_ g: Tensor, weight: Tensor, inputShape: [Int], stride: Int, padding: Int) -> Tensor { // INTERIM
        Interim.conv2dBackward(g, x: inputShape, xv: nil, w: weight.shape, wv: weight, stride: stride, padding: padding).0
    }
    static func conv2dBackwardWeight(_ g: Tensor, input: Tensor, weightShape: [Int], stride: Int, padding: Int) -> Tensor { // INTERIM
        Interim.conv2dBackward(g, x: input.shape, xv: input, w: weightShape, wv: nil, stride: stride, padding: padding).1
    }

    // MARK: shape
    static func permute(_ x: Tensor, _ perm: [Int]) -> Tensor { Interim.permute(x, perm) }    // INTERIM
    static func slice(_ x: Tensor, axis: Int, start: Int, end: Int) -> Tensor { Interim.slice(x, axis: axis, start: start, end: end) } // INTERIM
    static func sliceBackward(_ g: Tensor, inputShape: [Int], axis: Int, start: Int) -> Tensor { // INTERIM
        Interim.sliceBackward(g, inputShape: inputShape, axis: axis, start: start)
    }
    static func concat(_ xs: [Tensor], axis: Int) -> Tensor { Interim.concat(xs, axis: axis) } // INTERIM

    // MARK: resampling
    static func upsampleNearest(_ x: Tensor, factor: Int) -> Tensor { Interim.upsampleNearest(x, factor: factor) } // INTERIM
    static func upsampleNearestBackward(_ g: Tensor, factor: Int) -> Tensor { Interim.windowSum(g, k: factor, scale: 1) } // INTERIM
    static func avgPool(_ x: Tensor, kernel k: Int) -> Tensor { Interim.windowSum(x, k: k, scale: 1 / Float(k * k)) } // INTERIM
    static func avgPoolBackward(_ g: Tensor, kernel k: Int, inputShape: [Int]) -> Tensor {   // INTERIM
        scale(Interim.upsampleNearest(g, factor: k), 1 / Float(k * k))
    }
    static func resizeBilinear(_ x: Tensor, height: Int, width: Int) -> Tensor {              // INTERIM
        Interim.bilinear(x, height: height, width: width, backward: nil)
    }
    static func resizeBilinearBackward(_ g: Tensor, inputShape: [Int]) -> Tensor {            // INTERIM
        Interim.bilinear(g, height: g.shape[2], width: g.shape[3], backward: inputShape)
    }
}

extension Double { var float: Float { Float(self) } }
