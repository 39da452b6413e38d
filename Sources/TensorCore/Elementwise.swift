import Foundation

/// Elementwise kernels: binary ops with NumPy broadcasting, scalar ops, and unary maps.
/// Every kernel is parallel over fixed chunks (`Kernels.elementChunk` elements), so results do
/// not depend on the thread count. Derivative kernels live in ElementwiseBackward.swift.
public enum Kernels {
    /// Elements per parallel chunk in elementwise kernels.
    public static let elementChunk = 1 << 14
}

extension Kernels {
    /// `out[i] = op(a[i], b[i])` after broadcasting `a` and `b` to a common shape.
    @inline(__always)
    static func broadcastBinary(_ a: Tensor, _ b: Tensor, _ op: (Float, Float) -> Float) -> Tensor {
        let shape = a.shape == b.shape ? a.shape : broadcastShape(a.shape, b.shape)
        let plan = BroadcastPlan(a.shape, b.shape, to: shape)
        var out = [Float](repeating: 0, count: shape.reduce(1, *))
        if out.isEmpty { return Tensor(shape: shape, scalars: out) }
        let inner = plan.inner, rows = plan.rows
        let ia = plan.sa[plan.sa.count - 1], ib = plan.sb[plan.sb.count - 1]
        let rowChunk = Swift.max(1, elementChunk / Swift.max(inner, 1))
        a.scalars.withUnsafeBufferPointer { pa in
            b.scalars.withUnsafeBufferPointer { pb in
                out.withUnsafeMutableBufferPointer { po in
                    let (pa, pb, po) = (pa.baseAddress!, pb.baseAddress!, UnsafeSendable(po.baseAddress!))
                    if rows == 1 {
                        Threads.parallelFor(inner, chunk: elementChunk) { r in
                            for j in r { po.value[j] = op(pa[j * ia], pb[j * ib]) }
                        }
                        return
                    }
                    Threads.parallelFor(rows, chunk: rowChunk) { rs in
                        for r in rs {
                            let (oa, ob) = plan.rowOffsets(r)
                            let o = po.value + r * inner
                            let xa = pa + oa, xb = pb + ob
                            for j in 0..<inner { o[j] = op(xa[j * ia], xb[j * ib]) }
                        }
                    }
                }
            }
        }
        return Tensor(shape: shape, scalars: out)
    }

    /// `out[i] = op(x[i])`.
    @inline(__always)
    static func unary(_ x: Tensor, _ op: (Float) -> Float) -> Tensor {
        var out = [Float](repeating: 0, count: x.count)
        if out.isEmpty { return x }
        x.scalars.withUnsafeBufferPointer { px in
            out.withUnsafeMutableBufferPointer { po in
                let (px, po) = (px.baseAddress!, UnsafeSendable(po.baseAddress!))
                Threads.parallelFor(x.count, chunk: elementChunk) { r in
                    for i in r { po.value[i] = op(px[i]) }
                }
            }
        }
        return Tensor(shape: x.shape, scalars: out)
    }

    /// `out[i] = op(x[i], y[i])` for tensors of the same shape (derivative kernels).
    @inline(__always)
    static func map2(_ x: Tensor, _ y: Tensor, _ name: String, _ op: (Float, Float) -> Float) -> Tensor {
        precondition(x.shape == y.shape, "\(name): shapes \(x.shape) and \(y.shape) must match")
        var out = [Float](repeating: 0, count: x.count)
        if out.isEmpty { return x }
        x.scalars.withUnsafeBufferPointer { px in
            y.scalars.withUnsafeBufferPointer { py in
                out.withUnsafeMutableBufferPointer { po in
                    let (px, py, po) = (px.baseAddress!, py.baseAddress!, UnsafeSendable(po.baseAddress!))
                    Threads.parallelFor(x.count, chunk: elementChunk) { r in
                        for i in r { po.value[i] = op(px[i], py[i]) }
                    }
                }
            }
        }
        return Tensor(shape: x.shape, scalars: out)
    }

    /// Three same-shape operands (derivative kernels that need grad, input and output).
    @inline(__always)
    static func map3(_ x: Tensor, _ y: Tensor, _ z: Tensor, _ name: String,
                     _ op: (Float, Float, Float) -> Float) -> Tensor {
        precondition(x.shape == y.shape && y.shape == z.shape,
                     "\(name): shapes \(x.shape), \(y.shape), \(z.shape) must match")
        var out = [Float](repeating: 0, count: x.count)
        if out.isEmpty { return x }
        x.scalars.withUnsafeBufferPointer { px in
            y.scalars.withUnsafeBufferPointer { py in
                z.scalars.withUnsafeBufferPointer { pz in
                    out.withUnsafeMutableBufferPointer { po in
                        let (px, py, pz) = (px.baseAddress!, py.baseAddress!, pz.baseAddress!)
                        let po = UnsafeSendable(po.baseAddress!)
                        Threads.parallelFor(x.count, chunk: elementChunk) { r in
                            for i in r { po.value[i] = op(px[i], py[i], pz[i]) }
                        }
                    }
                }
            }
        }
        return Tensor(shape: x.shape, scalars: out)
    }

    // MARK: Binary (broadcasting)

    /// `a + b`, broadcast.
    public static func add(_ a: Tensor, _ b: Tensor) -> Tensor { broadcastBinary(a, b, +) }
    /// `a - b`, broadcast.
    public static func sub(_ a: Tensor, _ b: Tensor) -> Tensor { broadcastBinary(a, b, -) }
    /// `a * b`, broadcast.
    public static func mul(_ a: Tensor, _ b: Tensor) -> Tensor { broadcastBinary(a, b, *) }
    /// `a / b`, broadcast.
    public static func div(_ a: Tensor, _ b: Tensor) -> Tensor { broadcastBinary(a, b, /) }
    /// `max(a, b)`, broadcast.
    public static func maximum(_ a: Tensor, _ b: Tensor) -> Tensor { broadcastBinary(a, b) { Swift.max($0, $1) } }

    // MARK: Scalar

    /// `s * x`.
    public static func scale(_ x: Tensor, _ s: Float) -> Tensor { unary(x) { $0 * s } }
    /// `x + s`.
    public static func addScalar(_ x: Tensor, _ s: Float) -> Tensor { unary(x) { $0 + s } }
    /// `-x`.
    public static func neg(_ x: Tensor) -> Tensor { unary(x) { -$0 } }

    // MARK: Unary

    /// `e^x`.
    public static func exp(_ x: Tensor) -> Tensor { unary(x) { Foundation.exp($0) } }
    /// Natural logarithm.
    public static func log(_ x: Tensor) -> Tensor { unary(x) { Foundation.log($0) } }
    /// Square root.
    public static func sqrt(_ x: Tensor) -> Tensor { unary(x) { $0.squareRoot() } }
    /// `x^p` for a scalar exponent `p`.
    public static func pow(_ x: Tensor, _ p: Float) -> Tensor {
        if p == 2 { return unary(x) { $0 * $0 } }
        return unary(x) { Foundation.pow($0, p) }
    }
    /// `sigmoid(x) = 1 / (1 + e^-x)`.
    public static func sigmoid(_ x: Tensor) -> Tensor { unary(x, sigmoidScalar) }
    /// Hyperbolic tangent.
    public static func tanh(_ x: Tensor) -> Tensor { unary(x) { Foundation.tanh($0) } }
    /// `silu(x) = x * sigmoid(x)`.
    public static func silu(_ x: Tensor) -> Tensor { unary(x) { $0 * sigmoidScalar($0) } }
    /// `relu(x) = max(x, 0)`.
    public static func relu(_ x: Tensor) -> Tensor { unary(x) { Swift.max($0, 0) } }
    /// GELU. Exact: `0.5 x (1 + erf(x / sqrt 2))`. `approximate: true` (PyTorch "tanh"):
    /// `0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`.
    public static func gelu(_ x: Tensor, approximate: Bool = false) -> Tensor {
        approximate ? unary(x, geluTanhScalar) : unary(x, geluErfScalar)
    }
}

@inline(__always) func sigmoidScalar(_ x: Float) -> Float {
    // Stable for large |x|: never exponentiates a positive number.
    if x >= 0 { return 1 / (1 + Foundation.exp(-x)) }
    let e = Foundation.exp(x)
    return e / (1 + e)
}

let geluTanhC: Float = 0.7978845608028654  // sqrt(2/pi)
let invSqrt2: Float = 0.7071067811865476
let invSqrt2Pi: Float = 0.3989422804014327

@inline(__always) func geluErfScalar(_ x: Float) -> Float { 0.5 * x * (1 + erf(x * invSqrt2)) }
@inline(__always) func geluTanhScalar(_ x: Float) -> Float {
    0.5 * x * (1 + Foundation.tanh(geluTanhC * (x + 0.044715 * x * x * x)))
}

// Operators for readability in tests and glue code; kernels are the Kernels.* functions.
extension Tensor {
    public static func + (a: Tensor, b: Tensor) -> Tensor { Kernels.add(a, b) }
    public static func - (a: Tensor, b: Tensor) -> Tensor { Kernels.sub(a, b) }
    public static func * (a: Tensor, b: Tensor) -> Tensor { Kernels.mul(a, b) }
    public static func / (a: Tensor, b: Tensor) -> Tensor { Kernels.div(a, b) }
    public static func * (a: Tensor, s: Float) -> Tensor { Kernels.scale(a, s) }
}
