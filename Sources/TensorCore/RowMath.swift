/// Row primitives shared by softmax and fused attention, written so the compiler vectorises them:
/// reductions keep 8 independent partial sums (a SIMD8 accumulator) instead of one serial chain,
/// which a strict-IEEE compiler may not reorder. The result therefore differs from a left-to-right
/// sum only by rounding, and is the same for any thread count (the order is fixed per row).

/// `max_i x[i]` (-inf for n == 0).
@inline(__always)
func rowMax(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
    var i = 0
    var acc = SIMD8<Float>(repeating: -.infinity)
    let raw = UnsafeRawPointer(x)
    while i + 8 <= n {
        acc = pointwiseMax(acc, raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self))
        i += 8
    }
    var m = acc.max()
    while i < n { m = Swift.max(m, x[i]); i += 1 }
    return m
}

/// `sum_i x[i]`, 8 partial sums combined at the end.
@inline(__always)
func rowSum(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
    var i = 0
    var acc = SIMD8<Float>(repeating: 0)
    let raw = UnsafeRawPointer(x)
    while i + 8 <= n {
        acc += raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
        i += 8
    }
    var s = acc.sum()
    while i < n { s += x[i]; i += 1 }
    return s
}

/// `sum_i x[i] y[i]`, 8 partial sums combined at the end.
@inline(__always)
func rowDot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ n: Int) -> Float {
    var i = 0
    var acc = SIMD8<Float>(repeating: 0)
    let rx = UnsafeRawPointer(x), ry = UnsafeRawPointer(y)
    while i + 8 <= n {
        acc += rx.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            * ry.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
        i += 8
    }
    var s = acc.sum()
    while i < n { s += x[i] * y[i]; i += 1 }
    return s
}

/// `dst = softmax(src)` over one row of `n` (src and dst may be the same buffer). A row that is
/// all -inf gives zeros (no NaN), as `Kernels.softmax` documents.
@inline(__always)
func softmaxRow(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
    var m = rowMax(src, n)
    if m == -.infinity { m = 0 }
    for i in 0..<n { dst[i] = fastExp(src[i] - m) }
    let s = rowSum(dst, n)
    let inv = s > 0 ? 1 / s : 0
    for i in 0..<n { dst[i] *= inv }
}

/// Softmax backward over one row: `dst = y (g - sum(g y))` (dst may alias g).
@inline(__always)
func softmaxBackwardRow(_ g: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
    let s = rowDot(g, y, n)
    for i in 0..<n { dst[i] = y[i] * (g[i] - s) }
}
