/// The per-image tile transforms of Winograd F(2x2, 3x3) (Winograd.swift): input tiles
/// `V = B^T d B` and their adjoint (`dd = B dV B^T`, overlapping tiles added), output tiles `Y = A^T M A`, and
/// gradient tiles `dM = A dY A^T`.
///
/// Layouts: `V [16, C, T]` and `M`, `dM` `[16, O, T]` with rows `ld` (the group's tile count) apart;
/// tile `ty * tw + tx` of an image starts at `tile0`. Tile (ty, tx) reads padded input rows and
/// columns `2ty ..< 2ty + 4`, `2tx ..< 2tx + 4` and makes outputs `2ty ..< 2ty + 2`, `2tx ..< 2tx + 2`
/// (those past an odd edge are dropped).
/// Why the even/odd planes: a tile row's inputs are then contiguous in tx (column 2tx + 2j + p is
/// element tx + j of parity plane p), so every transform is 8 (or 4) tiles per SIMD operation
/// instead of scalar gathers and scatters (which made the scalar version slower than im2col).
extension Kernels {
    /// `V[ξ, c, tile0 + t] = (B^T d B)_ξ` for every channel of one image `[C, H, W]` (padding 1).
    /// `plane` is scratch of `winogradPlaneCount(plan)` Floats.
    static func winogradInput(_ image: UnsafePointer<Float>, _ g: ConvGeometry, _ plan: WinogradPlan,
                              v: UnsafeMutablePointer<Float>, ld: Int, tile0: Int, plane: UnsafeMutablePointer<Float>) {
        let h = g.height, w = g.width, hp = 2 * plan.th + 2, hw = plan.tw + 1, xs = g.channels * ld
        let even = plane, odd = plane + hp * hw   // padded column 2k at even[k], 2k + 1 at odd[k]
        // The padding cells are the same for every channel and only the interior is rewritten.
        plane.update(repeating: 0, count: 2 * hp * hw)
        for ch in 0..<g.channels {
            let src = image + ch * h * w
            for y in 0..<h {
                // padded 2k + 1 = input 2k (odd plane), padded 2k = input 2k - 1 (even plane, from k = 1)
                deinterleave(src + y * w, w, even: odd + (y + 1) * hw, odd: even + (y + 1) * hw + 1)
            }
            for ty in 0..<plan.th {
                let e = even + 2 * ty * hw, o = odd + 2 * ty * hw, d = v + ch * ld + tile0 + ty * plan.tw
                var tx = 0
                while tx + 8 <= plan.tw { inputTiles(SIMD8<Float>.self, e, o, hw, d, xs, tx); tx += 8 }
                while tx + 4 <= plan.tw { inputTiles(SIMD4<Float>.self, e, o, hw, d, xs, tx); tx += 4 }
                while tx < plan.tw { inputTiles(Float.self, e, o, hw, d, xs, tx); tx += 1 }
            }
        }
    }

    /// Lanes `tx ..< tx + L.width` of one tile row: `e`, `o` point at the even/odd planes' first
    /// row of the tile row (rows `hw` apart), `d` at V's tile row (ξ rows `xs` apart).
    @inline(__always)
    static func inputTiles<L: WinogradLanes>(_: L.Type, _ e: UnsafePointer<Float>, _ o: UnsafePointer<Float>, _ hw: Int,
                                             _ d: UnsafeMutablePointer<Float>, _ xs: Int, _ tx: Int) {
        // Column 2tx + c of B^T d for c = 0 (a), 1 (b), 2 (c), 3 (f): rows d0 - d2, d1 + d2, d2 - d1, d1 - d3.
        @inline(__always) func bt(_ p: UnsafePointer<Float>, _ at: Int) -> (L, L, L, L) {
            let d0 = L(loading: p + at), d1 = L(loading: p + hw + at), d2 = L(loading: p + 2 * hw + at), d3 = L(loading: p + 3 * hw + at)
            return (d0 - d2, d1 + d2, d2 - d1, d1 - d3)
        }
        let a = bt(e, tx), b = bt(o, tx), c = bt(e, tx + 1), f = bt(o, tx + 1)
        // Row i of (B^T d) B: a_i - c_i, b_i + c_i, c_i - b_i, b_i - f_i.
        @inline(__always) func put(_ i: Int, _ a: L, _ b: L, _ c: L, _ f: L) {
            (a - c).store(to: d + (4 * i) * xs + tx); (b + c).store(to: d + (4 * i + 1) * xs + tx)
            (c - b).store(to: d + (4 * i + 2) * xs + tx); (b - f).store(to: d + (4 * i + 3) * xs + tx)
        }
        put(0, a.0, b.0, c.0, f.0); put(1, a.1, b.1, c.1, f.1); put(2, a.2, b.2, c.2, f.2); put(3, a.3, b.3, c.3, f.3)
    }

    /// The adjoint of `winogradInput` (the data gradient's last step): `dx[c]` = the sum over tiles of `B dV B^T`, each
    /// tile's 4x4 added at its padded rows `2ty ..< 2ty + 4` and columns `2tx ..< 2tx + 4`, the padding dropped.
    /// `dv` is `[16, C, T]` (rows `ld` apart) already offset to this image's first tile; every element of
    /// `image [C, H, W]` is written. `plane` is scratch as in `winogradInput`.
    static func winogradInputAdjoint(_ dv: UnsafePointer<Float>, ld: Int, _ g: ConvGeometry, _ plan: WinogradPlan,
                                     image: UnsafeMutablePointer<Float>, plane: UnsafeMutablePointer<Float>) {
        let h = g.height, w = g.width, hp = 2 * plan.th + 2, hw = plan.tw + 1, xs = g.channels * ld
        let even = plane, odd = plane + hp * hw   // padded column 2k at even[k], 2k + 1 at odd[k], as in winogradInput
        for ch in 0..<g.channels {
            plane.update(repeating: 0, count: 2 * hp * hw)
            for ty in 0..<plan.th {
                let e = even + 2 * ty * hw, o = odd + 2 * ty * hw, s = dv + ch * ld + ty * plan.tw
                var tx = 0
                while tx + 8 <= plan.tw { inputTilesAdjoint(SIMD8<Float>.self, s, xs, e, o, hw, tx); tx += 8 }
                while tx + 4 <= plan.tw { inputTilesAdjoint(SIMD4<Float>.self, s, xs, e, o, hw, tx); tx += 4 }
                while tx < plan.tw { inputTilesAdjoint(Float.self, s, xs, e, o, hw, tx); tx += 1 }
            }
            // Input column 2k is padded 2k + 1 (odd[k]), input 2k + 1 is padded 2k + 2 (even[k + 1]); row y is padded y + 1.
            let dst = image + ch * h * w
            for y in 0..<h { interleave(odd + (y + 1) * hw, even + (y + 1) * hw + 1, into: dst + y * w, w) }
        }
    }

    /// Lanes `tx ..< tx + L.width` of one tile row of dV (`s`, ξ rows `xs` apart) added into the parity planes' four
    /// padded rows from `e`, `o` (rows `hw` apart): the transpose of `inputTiles`.
    @inline(__always)
    static func inputTilesAdjoint<L: WinogradLanes>(_: L.Type, _ s: UnsafePointer<Float>, _ xs: Int, _ e: UnsafeMutablePointer<Float>,
                                                    _ o: UnsafeMutablePointer<Float>, _ hw: Int, _ tx: Int) {
        // Row i of V is (a - c, b + c, c - b, b - f) of row i of B^T d's columns a, b, c, f (2tx ..< 2tx + 4), so
        // row i's column gradients are (v0, v1 - v2 + v3, v1 + v2 - v0, -v3).
        @inline(__always) func columns(_ i: Int) -> (L, L, L, L) {
            let v0 = L(loading: s + (4 * i) * xs + tx), v1 = L(loading: s + (4 * i + 1) * xs + tx)
            let v2 = L(loading: s + (4 * i + 2) * xs + tx), v3 = L(loading: s + (4 * i + 3) * xs + tx)
            return (v0, v1 - v2 + v3, v1 + v2 - v0, -v3)
        }
        let r0 = columns(0), r1 = columns(1), r2 = columns(2), r3 = columns(3)
        // A column of B^T d is (d0 - d2, d1 + d2, d2 - d1, d1 - d3), so its rows' gradients are
        // (x0, x1 - x2 + x3, x1 + x2 - x0, -x3), added at padded rows 2ty ..< 2ty + 4.
        @inline(__always) func add(_ p: UnsafeMutablePointer<Float>, _ x0: L, _ x1: L, _ x2: L, _ x3: L) {
            (L(loading: p) + x0).store(to: p)
            (L(loading: p + hw) + (x1 - x2 + x3)).store(to: p + hw)
            (L(loading: p + 2 * hw) + (x1 + x2 - x0)).store(to: p + 2 * hw)
            (L(loading: p + 3 * hw) - x3).store(to: p + 3 * hw)
        }
        add(e + tx, r0.0, r1.0, r2.0, r3.0)       // column a: padded 2tx
        add(o + tx, r0.1, r1.1, r2.1, r3.1)       // b: 2tx + 1
        add(e + tx + 1, r0.2, r1.2, r2.2, r3.2)   // c: 2tx + 2
        add(o + tx + 1, r0.3, r1.3, r2.3, r3.3)   // f: 2tx + 3
    }

    /// `image[o] = (A^T M A) + bias[o]` for one image's tiles of `m` (already offset to its first
    /// tile), written into `image [O, outH, outW]`. `plane` is scratch as in `winogradInput`.
    static func winogradOutput(_ m: UnsafePointer<Float>, ld: Int, outputs: Int, _ g: ConvGeometry, _ plan: WinogradPlan,
                               bias: [Float]?, image: UnsafeMutablePointer<Float>, plane: UnsafeMutablePointer<Float>) {
        let oh = g.outH, ow = g.outW, tw = plan.tw, xs = outputs * ld
        // Output rows 2ty and 2ty + 1 by parity of column: top even/odd, bottom even/odd, tw each.
        let rows = (plane, plane + tw, plane + 2 * tw, plane + 3 * tw)
        for oc in 0..<outputs {
            let b = bias?[oc] ?? 0
            for ty in 0..<plan.th {
                let src = m + oc * ld + ty * tw
                var tx = 0
                while tx + 8 <= tw { outputTiles(SIMD8<Float>.self, src, xs, b, rows, tx); tx += 8 }
                while tx + 4 <= tw { outputTiles(SIMD4<Float>.self, src, xs, b, rows, tx); tx += 4 }
                while tx < tw { outputTiles(Float.self, src, xs, b, rows, tx); tx += 1 }
                let dst = image + (oc * oh + 2 * ty) * ow
                interleave(rows.0, rows.1, into: dst, ow)
                if 2 * ty + 1 < oh { interleave(rows.2, rows.3, into: dst + ow, ow) }
            }
        }
    }

    /// Lanes `tx ..< tx + L.width` of one tile row of M (`src`, ξ rows `xs` apart) into the four
    /// parity rows of `winogradOutput`.
    @inline(__always)
    static func outputTiles<L: WinogradLanes>(_: L.Type, _ src: UnsafePointer<Float>, _ xs: Int, _ bias: Float,
                                              _ rows: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>,
                                                       UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>), _ tx: Int) {
        @inline(__always) func m(_ xi: Int) -> L { L(loading: src + xi * xs + tx) }
        // Rows of A^T M (A^T = [1 1 1 0; 0 1 -1 -1]) per column j, then the same combination of columns.
        @inline(__always) func top(_ j: Int) -> L { m(j) + m(4 + j) + m(8 + j) }
        @inline(__always) func bottom(_ j: Int) -> L { m(4 + j) - m(8 + j) - m(12 + j) }
        let t0 = top(0), t1 = top(1), t2 = top(2), t3 = top(3)
        let u0 = bottom(0), u1 = bottom(1), u2 = bottom(2), u3 = bottom(3)
        let b = L(broadcast: bias)
        (t0 + t1 + t2 + b).store(to: rows.0 + tx); (t1 - t2 - t3 + b).store(to: rows.1 + tx)
        (u0 + u1 + u2 + b).store(to: rows.2 + tx); (u1 - u2 - u3 + b).store(to: rows.3 + tx)
    }

    /// `dst[2k] = even[k]`, `dst[2k + 1] = odd[k]` for the first `n` elements of `dst`, 16 at a time.
    @inline(__always)
    static func interleave(_ even: UnsafePointer<Float>, _ odd: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>, _ n: Int) {
        var k = 0
        while 2 * k + 16 <= n {
            var v = SIMD16<Float>()
            v.evenHalf = SIMD8(loading: even + k); v.oddHalf = SIMD8(loading: odd + k)
            UnsafeMutableRawPointer(dst + 2 * k).storeBytes(of: v, as: SIMD16<Float>.self)
            k += 8
        }
        while 2 * k + 1 < n { dst[2 * k] = even[k]; dst[2 * k + 1] = odd[k]; k += 1 }
        if n % 2 == 1 { dst[n - 1] = even[n / 2] }
    }

    /// `even[k] = src[2k]`, `odd[k] = src[2k + 1]` over `src[0 ..< n]`, 16 at a time (the inverse of
    /// `interleave`; an odd n leaves the last `odd` element alone).
    @inline(__always)
    static func deinterleave(_ src: UnsafePointer<Float>, _ n: Int, even: UnsafeMutablePointer<Float>, odd: UnsafeMutablePointer<Float>) {
        var k = 0
        while 2 * k + 16 <= n {
            let v = UnsafeRawPointer(src + 2 * k).loadUnaligned(as: SIMD16<Float>.self)
            v.evenHalf.store(to: even + k); v.oddHalf.store(to: odd + k)
            k += 8
        }
        while 2 * k + 1 < n { even[k] = src[2 * k]; odd[k] = src[2 * k + 1]; k += 1 }
        if n % 2 == 1 { even[n / 2] = src[n - 1] }
    }

    /// `dM[ξ, o, tile0 + t] = (A dY A^T)_ξ` for one image's output gradient `[O, outH, outW]`
    /// (zero past an odd edge). `plane` is scratch as in `winogradInput`.
    static func winogradGradient(_ grad: UnsafePointer<Float>, outputs: Int, _ g: ConvGeometry, _ plan: WinogradPlan,
                                 dm: UnsafeMutablePointer<Float>, ld: Int, tile0: Int, plane: UnsafeMutablePointer<Float>) {
        let oh = g.outH, ow = g.outW, tw = plan.tw, hp = 2 * plan.th, xs = outputs * ld
        let even = plane, odd = plane + hp * tw   // gradient column 2k at even[k], 2k + 1 at odd[k]
        plane.update(repeating: 0, count: 2 * hp * tw)   // the zeros past an odd edge stay for every channel
        for oc in 0..<outputs {
            let src = grad + oc * oh * ow
            for y in 0..<oh { deinterleave(src + y * ow, ow, even: even + y * tw, odd: odd + y * tw) }
            for ty in 0..<plan.th {
                let e = even + 2 * ty * tw, o = odd + 2 * ty * tw, d = dm + oc * ld + tile0 + ty * tw
                var tx = 0
                while tx + 8 <= tw { gradientTiles(SIMD8<Float>.self, e, o, tw, d, xs, tx); tx += 8 }
                while tx + 4 <= tw { gradientTiles(SIMD4<Float>.self, e, o, tw, d, xs, tx); tx += 4 }
                while tx < tw { gradientTiles(Float.self, e, o, tw, d, xs, tx); tx += 1 }
            }
        }
    }

    /// Lanes `tx ..< tx + L.width` of one tile row of dY (parity planes `e`, `o`, rows `hw` apart)
    /// into dM's tile row `d` (ξ rows `xs` apart).
    @inline(__always)
    static func gradientTiles<L: WinogradLanes>(_: L.Type, _ e: UnsafePointer<Float>, _ o: UnsafePointer<Float>, _ hw: Int,
                                                _ d: UnsafeMutablePointer<Float>, _ xs: Int, _ tx: Int) {
        // A = [1 0; 1 1; 1 -1; 0 -1]: column j of A dY has rows g0j, g0j + g1j, g0j - g1j, -g1j.
        @inline(__always) func column(_ p: UnsafePointer<Float>) -> (L, L, L, L) {
            let g0 = L(loading: p + tx), g1 = L(loading: p + hw + tx)
            return (g0, g0 + g1, g0 - g1, -g1)
        }
        let a = column(e), b = column(o)
        // Row i of (A dY) A^T: a_i, a_i + b_i, a_i - b_i, -b_i.
        @inline(__always) func put(_ i: Int, _ a: L, _ b: L) {
            a.store(to: d + (4 * i) * xs + tx); (a + b).store(to: d + (4 * i + 1) * xs + tx)
            (a - b).store(to: d + (4 * i + 2) * xs + tx); (-b).store(to: d + (4 * i + 3) * xs + tx)
        }
        put(0, a.0, b.0); put(1, a.1, b.1); put(2, a.2, b.2); put(3, a.3, b.3)
    }

    /// Scratch Floats the tile transforms need for one image of `plan`.
    static func winogradPlaneCount(_ plan: WinogradPlan) -> Int { 2 * (2 * plan.th + 2) * (plan.tw + 1) }
}

/// What the tile transforms compute with: one tile (`Float`), four or eight side by side
/// (`SIMD4<Float>`, `SIMD8<Float>`), so each transform's formula is written once for the vector
/// bodies and the scalar remainder.
protocol WinogradLanes {
    init(loading p: UnsafePointer<Float>)
    init(broadcast x: Float)
    func store(to p: UnsafeMutablePointer<Float>)
    static func + (a: Self, b: Self) -> Self
    static func - (a: Self, b: Self) -> Self
    static prefix func - (a: Self) -> Self
}

extension Float: WinogradLanes {
    @inline(__always) init(loading p: UnsafePointer<Float>) { self = p.pointee }
    @inline(__always) init(broadcast x: Float) { self = x }
    @inline(__always) func store(to p: UnsafeMutablePointer<Float>) { p.pointee = self }
}

extension SIMD4: WinogradLanes where Scalar == Float {
    @inline(__always) init(loading p: UnsafePointer<Float>) { self = UnsafeRawPointer(p).loadUnaligned(as: SIMD4<Float>.self) }
    @inline(__always) init(broadcast x: Float) { self.init(repeating: x) }
    @inline(__always) func store(to p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: self, as: SIMD4<Float>.self) }
}

extension SIMD8: WinogradLanes where Scalar == Float {
    @inline(__always) init(loading p: UnsafePointer<Float>) { self = UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self) }
    @inline(__always) init(broadcast x: Float) { self.init(repeating: x) }
    @inline(__always) func store(to p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: self, as: SIMD8<Float>.self) }
}
