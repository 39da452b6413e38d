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
    static func broadcastBinary<F: ElementFn2>(_ a: Tensor, _ b: Tensor, _ op: F, shape target: [Int]? = nil) -> Tensor {
        let shape = target ?? (a.shape == b.shape ? a.shape : broadcastShape(a.shape, b.shape))
        let plan = BroadcastPlan(a.shape, b.shape, to: shape)
        var out = uninitializedStorage(shape.reduce(1, *))
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
    static func unary<F: ElementFn1>(_ x: Tensor, _ op: F) -> Tensor {
        var out = uninitializedStorage(x.count)
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
    static func map2<F: ElementFn2>(_ x: Tensor, _ y: Tensor, _ name: String, _ op: F) -> Tensor {
        precondition(x.shape == y.shape, "\(name): shapes \(x.shape) and \(y.shape) must match")
        var out = uninitializedStorage(x.count)
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

    // MARK: Binary (broadcasting)

    /// `a + b`, broadcast.
    public static func add(_ a: Tensor, _ b: Tensor) -> Tensor { broadcastBinary(a, b, Fn.Add()) }
    /// `a += b` for equal shapes, in place: gradient accumulation without a new tensor per sum.
    /// Copy-on-write keeps it safe when `a`'s storage is shared (the first write copies it).
    public static func addInPlace(_ a: inout Tensor, _ b: Tensor) {
        precondition(a.shape == b.shape, "addInPlace: shapes \(a.shape) and \(b.shape) must match")
        let n = a.count
        b.scalars.withUnsafeBufferPointer { pb in
            a.scalars.withUnsafeMutableBufferPointer { pa in
                guard n > 0 else { return }
                let (pa, pb) = (UnsafeSendable(pa.baseAddress!), pb.baseAddress!)
                Threads.parallelFor(n, chunk: elementChunk) { r in
                    for i in r { pa.value[i] += pb[i] }
                }
            }
        }
    }
    /// `a - b`, broadcast.
    public static func sub(_ a: Tensor, _ b: Tensor) -> Tensor { broadcastBinary(a, b, Fn.Sub()) }
    /// `a * b`, broadcast.
    public static func mul(_ a: Tensor, _ b: Tensor) -> Tensor { broadcastBinary(a, b, Fn.Mul()) }
    /// `a / b`, broadcast.
    public static func div(_ a: Tensor, _ b: Tensor) -> Tensor { broadcastBinary(a, b, Fn.Div()) }
    /// `max(a, b)`, broadcast.
    public static func maximum(_ a: Tensor, _ b: Tensor) -> Tensor { broadcastBinary(a, b, Fn.Max()) }

    // MARK: Scalar

    /// `s * x`.
    public static func scale(_ x: Tensor, _ s: Float) -> Tensor { unary(x, Fn.Scale(s: s)) }
    /// `x + s`.
    public static func addScalar(_ x: Tensor, _ s: Float) -> Tensor { unary(x, Fn.AddScalar(s: s)) }
    /// `-x`.
    public static func neg(_ x: Tensor) -> Tensor { unary(x, Fn.Neg()) }

    // MARK: Unary

    /// `e^x`.
    public static func exp(_ x: Tensor) -> Tensor { unary(x, Fn.Exp()) }
    /// Natural logarithm.
    public static func log(_ x: Tensor) -> Tensor { unary(x, Fn.Log()) }
    /// Square root.
    public static func sqrt(_ x: Tensor) -> Tensor { unary(x, Fn.Sqrt()) }
    /// `x^p` for a scalar exponent `p`.
    public static func pow(_ x: Tensor, _ p: Float) -> Tensor {
        if p == 2 { return unary(x, Fn.Square()) }
        return unary(x, Fn.Pow(p: p))
    }
    /// `sigmoid(x) = 1 / (1 + e^-x)`.
    public static func sigmoid(_ x: Tensor) -> Tensor { unary(x, Fn.Sigmoid()) }
    /// Hyperbolic tangent.
    public static func tanh(_ x: Tensor) -> Tensor { unary(x, Fn.Tanh()) }
    /// `silu(x) = x * sigmoid(x)`.
    public static func silu(_ x: Tensor) -> Tensor { unary(x, Fn.Silu()) }
    /// `relu(x) = max(x, 0)`.
    public static func relu(_ x: Tensor) -> Tensor { unary(x, Fn.Relu()) }
    /// GELU. Exact: `0.5 x (1 + erf(x / sqrt 2))`. `approximate: true` (PyTorch "tanh"):
    /// `0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`.
    public static func gelu(_ x: Tensor, approximate: Bool = false) -> Tensor {
        approximate ? unary(x, Fn.GeluTanh()) : unary(x, Fn.GeluErf())
    }
}

@inline(__always) func sigmoidScalar(_ x: Float) -> Float {
    // e^-x overflows to +inf for x < -88.7, giving 1 / inf = 0: stable without a branch.
    1 / (1 + fastExp(-x))
}

let geluTanhC: Float = 0.7978845608028654  // sqrt(2/pi)
let invSqrt2: Float = 0.7071067811865476
let invSqrt2Pi: Float = 0.3989422804014327

@inline(__always) func geluErfScalar(_ x: Float) -> Float { 0.5 * x * (1 + fastErf(x * invSqrt2)) }
@inline(__always) func geluTanhScalar(_ x: Float) -> Float {
    0.5 * x * (1 + fastTanh(geluTanhC * (x + 0.044715 * x * x * x)))
}

// Operators for readability in tests and glue code; kernels are the Kernels.* functions.
extension Tensor {
    public static func + (a: Tensor, b: Tensor) -> Tensor { Kernels.add(a, b) }
    public static func - (a: Tensor, b: Tensor) -> Tensor { Kernels.sub(a, b) }
    public static func * (a: Tensor, b: Tensor) -> Tensor { Kernels.mul(a, b) }
    public static func / (a: Tensor, b: Tensor) -> Tensor { Kernels.div(a, b) }
    public static func * (a: Tensor, s: Float) -> Tensor { Kernels.scale(a, s) }
}
