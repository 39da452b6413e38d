/// Row primitives shared by softmax and fused attention, written so the compiler vectorises them:
/// reductions keep 8 independent partial sums (a SIMD8 accumulator) instead of one serial chain,
/// which a strict-IEEE compiler may not reorder. The result therefore differs from a left-to-right
/// sum only by rounding, and is the same for any thread count (the order is fixed per row).

/// `max_i x[i]` (-inf for n == 0). Eight running maxima as `a > m ? a : m` (what vmaxps computes), so the compiler
/// makes one vector compare-and-select per 8 elements. Not the standard library's `pointwiseMax`: it stayed an
/// out-of-line call per 8 elements (9.5% of sampling's CPU in `perf record`, in attention's softmax rows).
@inline(__always)
func rowMax(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
    var i = 0
    var m0 = -Float.infinity, m1 = m0, m2 = m0, m3 = m0, m4 = m0, m5 = m0, m6 = m0, m7 = m0
    while i + 8 <= n {
        m0 = x[i] > m0 ? x[i] : m0; m1 = x[i + 1] > m1 ? x[i + 1] : m1
        m2 = x[i + 2] > m2 ? x[i + 2] : m2; m3 = x[i + 3] > m3 ? x[i + 3] : m3
        m4 = x[i + 4] > m4 ? x[i + 4] : m4; m5 = x[i + 5] > m5 ? x[i + 5] : m5
        m6 = x[i + 6] > m6 ? x[i + 6] : m6; m7 = x[i + 7] > m7 ? x[i + 7] : m7
        i += 8
    }
    var m = Swift.max(Swift.max(Swift.max(m0, m1), Swift.max(m2, m3)), Swift.max(Swift.max(m4, m5), Swift.max(m6, m7)))
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

/// `sum_i x[i]` accumulated in Double, 8 partial sums combined at the end (the normalisations' mean: Double keeps it
/// exact to Float precision for long sets; the partial sums let the compiler vectorise what a serial chain of Double
/// additions, 4 cycles each, did not).
@inline(__always)
func rowSumDouble(_ x: UnsafePointer<Float>, _ n: Int) -> Double {
    var i = 0
    var acc = SIMD8<Double>(repeating: 0)
    let raw = UnsafeRawPointer(x)
    while i + 8 <= n {
        acc += SIMD8<Double>(raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self))
        i += 8
    }
    var s = acc.sum()
    while i < n { s += Double(x[i]); i += 1 }
    return s
}

/// `sum_i (x[i] - mu)^2` in Double, the difference taken in Float as before; 8 partial sums.
@inline(__always)
func rowSquaredDeviationDouble(_ x: UnsafePointer<Float>, _ n: Int, mean mu: Float) -> Double {
    var i = 0
    var acc = SIMD8<Double>(repeating: 0)
    let raw = UnsafeRawPointer(x)
    let m = SIMD8<Float>(repeating: mu)
    while i + 8 <= n {
        let d = SIMD8<Double>(raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) - m)
        acc += d * d
        i += 8
    }
    var s = acc.sum()
    while i < n { let d = Double(x[i] - mu); s += d * d; i += 1 }
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
    if UnsafeMutablePointer(mutating: src) == dst {
        // In place (attention's rows): one pointer, so the compiler vectorises the exponentials without an alias check.
        for i in 0..<n { dst[i] = fastExp(dst[i] - m) }
    } else {
        for i in 0..<n { dst[i] = fastExp(src[i] - m) }
    }
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
