import Foundation
import Testing
import TestSupport
@testable import TensorCore

/// The BF16 product (`GEMMPrecision.bf16`, CBF16's kernel) against an independent reference: the operands rounded by
/// `roundToBF16` (checked here against the bit patterns of the definition), products summed in Double. The kernel
/// accumulates in FP32, so each element may differ from the reference by at most the sequential-summation bound
/// gamma_K = K u / (1 - K u) (u = 2^-24) times sum_p |a_ip b_pj|, plus the alpha/beta combination's two roundings;
/// the tolerance is that bound, computed per element. Operands used unrounded, a wrong pair order, a lost K block or
/// a misplaced edge column all miss it by orders of magnitude (the rounding of one operand is ~2^-9 relative).
@Suite(.enabled(if: GEMMPrecision.bf16Available, "this CPU has no AVX512-BF16"))
struct BF16GEMMTests {
    @Test func roundingFollowsTheDefinition() {
        func bits(_ x: Float) -> UInt32 { GEMMPrecision.roundToBF16(x).bitPattern }
        #expect(bits(1) == 0x3f80_0000)
        #expect(bits(Float(bitPattern: 0x3f80_8000)) == 0x3f80_0000)      // a tie, kept at the even 0x3f80
        #expect(bits(Float(bitPattern: 0x3f81_8000)) == 0x3f82_0000)      // a tie, up to the even 0x3f82
        #expect(bits(Float(bitPattern: 0x3f80_8001)) == 0x3f81_0000)      // above the tie
        #expect(bits(Float(bitPattern: 0x3f80_7fff)) == 0x3f80_0000)      // below the tie
        #expect(bits(-2.5) == (-2.5 as Float).bitPattern)                  // exact values stay
        #expect(bits(Float(bitPattern: 0x0000_1234)) == 0)                 // subnormals flush to +0 / -0
        #expect(bits(Float(bitPattern: 0x8000_1234)) == 0x8000_0000)
        #expect(bits(.greatestFiniteMagnitude) == Float.infinity.bitPattern)
        #expect(GEMMPrecision.roundToBF16(.nan).isNaN)
    }

    /// Every transpose, edges of the 8 x 32 tile, the 128-column panel and the 512-element K block, odd K,
    /// row strides wider than the rows, alpha and beta (C read only when beta is not 0).
    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func matchesTheRoundedReference(_ ta: Bool, _ tb: Bool) {
        var rng = TestRNG(state: 2207)
        let shapes = [(1, 1, 1), (7, 31, 3), (9, 33, 2), (17, 130, 5), (8, 32, 513), (13, 129, 1030), (3, 300, 64)]
        for (m, n, k) in shapes {
            for (alpha, beta) in [(Float(1), Float(0)), (0.5, -2)] {
                let pad = 3
                // Stored operands: A is [M, K] (or [K, M] when transposed), B is [K, N] (or [N, K]); pad extra columns.
                let (ar, ac) = ta ? (k, m) : (m, k), (br, bc) = tb ? (n, k) : (k, n)
                let lda = ac + pad, ldb = bc + pad, ldc = n + pad
                let a = (0..<(ar * lda)).map { _ in rng.uniform(-2, 2) }, b = (0..<(br * ldb)).map { _ in rng.uniform(-2, 2) }
                let c0 = (0..<(m * ldc)).map { _ in beta == 0 ? Float.nan : rng.uniform(-1, 1) }
                var c = c0
                a.withUnsafeBufferPointer { pa in
                    b.withUnsafeBufferPointer { pb in
                        c.withUnsafeMutableBufferPointer { pc in
                            bf16GEMM(ta, tb, m, n, k, alpha, pa.baseAddress!, lda, pb.baseAddress!, ldb, beta, pc.baseAddress!, ldc)
                        }
                    }
                }
                let u = 0x1p-24, gamma = Double(k) * u / (1 - Double(k) * u)
                var worst = 0.0
                for i in 0..<m {
                    for j in 0..<n {
                        var s = 0.0, mag = 0.0
                        for p in 0..<k {
                            let x = Double(GEMMPrecision.roundToBF16(ta ? a[p * lda + i] : a[i * lda + p]))
                            let y = Double(GEMMPrecision.roundToBF16(tb ? b[j * ldb + p] : b[p * ldb + j]))
                            s += x * y; mag += abs(x * y)
                        }
                        let cOld = beta == 0 ? 0 : Double(c0[i * ldc + j])
                        let want = Double(alpha) * s + Double(beta) * cOld
                        let tol = Double(abs(alpha)) * (gamma * mag) + 4 * u * (abs(Double(alpha) * s) + abs(Double(beta) * cOld)) + 1e-30
                        worst = max(worst, abs(Double(c[i * ldc + j]) - want) / tol)
                    }
                    for j in n..<ldc {   // the padding between rows is never written
                        #expect(c[i * ldc + j].bitPattern == c0[i * ldc + j].bitPattern, "\(m)x\(n)x\(k): padding at row \(i) written")
                    }
                }
                #expect(worst <= 1, "\(m)x\(n)x\(k) trans \(ta) \(tb) alpha \(alpha) beta \(beta): error \(worst) x the FP32 bound")
            }
        }
    }

    /// Under BF16, products with N or K below `bf16MinimumSide` (attention's per-head products) stay FP32, bit for bit;
    /// one just above it does not.
    @Test func smallProductsStayFP32() {
        var rng = TestRNG(state: 43)
        let q = rng.tensor([64, 8]), kt = rng.tensor([8, 200]), p = rng.tensor([200, 64]), v = rng.tensor([64, 8])
        let wide = rng.tensor([64, 40]), w2 = rng.tensor([40, 48])
        #expect(GEMMPrecision.with(.bf16) { Kernels.matmul(q, kt) } == Kernels.matmul(q, kt), "K = 8 ran in BF16")
        #expect(GEMMPrecision.with(.bf16) { Kernels.matmul(p, v) } == Kernels.matmul(p, v), "N = 8 ran in BF16")
        #expect(GEMMPrecision.with(.bf16) { Kernels.matmul(wide, w2) } != Kernels.matmul(wide, w2), "N = 48, K = 40 stayed FP32")
    }

    /// The precision is the caller's task-local: products outside `with(.bf16)` stay FP32 (BLAS) while BF16 ones run
    /// beside them, and helper threads of `Threads.parallelFor` (the Winograd convolution runs one product per
    /// transform point on them) inherit it: 1 and 2 threads agree bit for bit under BF16, and BF16 differs from FP32.
    @Test func precisionIsTheCallersAndReachesHelperThreads() {
        var rng = TestRNG(state: 41)
        let x = rng.tensor([4, 32, 16, 16]), w = rng.tensor([32, 32, 3, 3])   // Winograd: one 32 x 256 x 32 product per point
        let fp32 = Threads.withCount(2) { Kernels.conv2d(x, weight: w, bias: nil, padding: (1, 1)) }
        let one = Threads.withCount(1) { GEMMPrecision.with(.bf16) { Kernels.conv2d(x, weight: w, bias: nil, padding: (1, 1)) } }
        let two = Threads.withCount(2) { GEMMPrecision.with(.bf16) { Kernels.conv2d(x, weight: w, bias: nil, padding: (1, 1)) } }
        #expect(one == two, "BF16 convolution: 1 and 2 threads differ (a helper thread ran FP32?)")
        #expect(one != fp32, "BF16 convolution equals FP32 bit for bit: the precision did not reach the product")
        // Operand rounding of 2^-9 relative over K = 32 (Winograd-transformed) products: measured 4.0e-3 RMS.
        var d2 = 0.0, r2 = 0.0
        for i in 0..<fp32.count { d2 += pow(Double(two.scalars[i] - fp32.scalars[i]), 2); r2 += pow(Double(fp32.scalars[i]), 2) }
        #expect((d2 / r2).squareRoot() < 1e-2, "BF16 convolution's relative RMS difference to FP32: \((d2 / r2).squareRoot())")
        #expect(GEMMPrecision.current == .fp32)
        let again = Threads.withCount(2) { Kernels.conv2d(x, weight: w, bias: nil, padding: (1, 1)) }
        #expect(again == fp32, "FP32 after a BF16 block is not bit-identical to FP32 before it")
    }
}
