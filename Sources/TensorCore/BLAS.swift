// The only file that calls BLAS (and the BF16 kernel, CBF16, under `GEMMPrecision.bf16`): Accelerate's CBLAS on Apple platforms, OpenBLAS (the CBLAS system-library target,
// a dependency on Linux only in Package.swift) on Linux; other platforms have neither. Both declare `cblas_sgemm`
// with the same enums and 32-bit integer arguments, so the call below is one text for both. The Accelerate branch
// has never been compiled on macOS: `scripts/check-accelerate` only type-checks it on Linux against a stand-in
// header (README, Portability).
#if canImport(Accelerate)
import Accelerate
#else
import CBLAS
#endif
import CBF16

/// Makes the BLAS library run every call on the calling thread, as `sgemm` below expects (it splits large
/// products over `Threads` itself). OpenBLAS: `openblas_set_num_threads(1)`. Accelerate: nothing is called; it
/// decides its own threading (the thread-count-independence of results is checked on Linux only).
func setBLASSingleThreaded() {
    #if !canImport(Accelerate)
    openblas_set_num_threads(1)
    #endif
}

/// Row-major single-precision GEMM:
/// `C[M, N] = alpha * op(A) op(B) + beta * C`, `op(A)` is `[M, K]`, `op(B)` is `[K, N]`.
/// `lda`, `ldb`, `ldc` are the row strides of A, B, C as stored (before transposition).
@inline(__always)
func sgemm(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
    alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int,
    beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
) {
    if sgemmIsTrivial(m: m, n: n, k: k, beta: beta, c: c, ldc: ldc) { return }
    Threads.prepareBLAS()
    let bf16 = GEMMPrecision.current == .bf16
    // The BLAS runs single-threaded (see `Threads`); large products are split here into blocks of
    // rows (or columns) of C, one single-threaded sgemm each, spread by `Threads.parallelFor`.
    // Each C element is still one BLAS dot product over the whole K.
    // Why: OpenBLAS's own workers spin (sched_yield) between calls and starve the elementwise
    // kernels' threads; on a loaded 2-core machine that made a U-Net step 2x slower than 1 thread.
    // The split depends on the shape only (never on the thread count): OpenBLAS may use different
    // edge kernels for different block sizes, so the same blocks must run whatever the count.
    let pieces = m * n * k < gemmSplitThreshold ? 1 : min(8, max(m, n) / 16)
    if pieces <= 1 {
        gemmKernel(bf16, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
        return
    }
    let cBox = UnsafeSendable(c)
    if m >= n {
        let rows = (m + pieces - 1) / pieces
        Threads.parallelFor(m, chunk: rows) { r in
            let aOff = transA ? r.lowerBound : r.lowerBound * lda      // A stored [K, M] when transposed
            gemmKernel(bf16, transA, transB, r.count, n, k, alpha, a + aOff, lda, b, ldb, beta,
                       cBox.value + r.lowerBound * ldc, ldc)
        }
    } else {
        let cols = (n + pieces - 1) / pieces
        Threads.parallelFor(n, chunk: cols) { r in
            let bOff = transB ? r.lowerBound * ldb : r.lowerBound      // B stored [N, K] when transposed
            gemmKernel(bf16, transA, transB, m, r.count, k, alpha, a, lda, b + bOff, ldb, beta,
                       cBox.value + r.lowerBound, ldc)
        }
    }
}

/// The empty products, done here: nothing when C is empty; C = beta C when K = 0 (BLAS would leave
/// C scaled by beta, done explicitly for clarity). True when nothing is left for BLAS.
@inline(__always)
private func sgemmIsTrivial(m: Int, n: Int, k: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) -> Bool {
    if m == 0 || n == 0 { return true }
    guard k == 0 else { return false }
    for i in 0..<m { for j in 0..<n { c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j] } }
    return true
}

/// Products with fewer multiply-adds than this run as one sgemm on the calling thread.
let gemmSplitThreshold = 1 << 18

/// Under `GEMMPrecision.bf16`, products with N or K below this stay FP32 (BLAS): the kernel's 8 x 32 tile and K pairs
/// would run mostly empty (attention's Q K^T has K = the head width, P V has N = it).
let bf16MinimumSide = 32

/// One product on the calling thread: the BF16 kernel (CBF16) when `bf16` and the product is large enough
/// (`bf16MinimumSide`), else BLAS sgemm. Same contract.
@inline(__always)
private func gemmKernel(
    _ bf16: Bool, _ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
    _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
    _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int
) {
    if bf16 && n >= bf16MinimumSide && k >= bf16MinimumSide {
        bf16GEMM(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
    } else {
        cblasSgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
    }
}

/// CBF16's kernel, whatever the shape (tests call it directly). Same contract as `sgemm`, on the calling thread.
@inline(__always)
func bf16GEMM(
    _ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
    _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
    _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int
) {
    pdpo_bf16_gemm(transA ? 1 : 0, transB ? 1 : 0, Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

@inline(__always)
private func cblasSgemm(
    _ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
    _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
    _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int
) {
    cblas_sgemm(
        CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
        Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

/// `sgemm` as one BLAS call on the calling thread, never split: for kernels that already run
/// independent products in parallel (one per attention head), where a nested split would only add
/// hand-offs. Same arguments and row-major conventions as `sgemm`.
@inline(__always)
func sgemmOnThisThread(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
    alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int,
    beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
) {
    if sgemmIsTrivial(m: m, n: n, k: k, beta: beta, c: c, ldc: ldc) { return }
    Threads.prepareBLAS()
    gemmKernel(GEMMPrecision.current == .bf16, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}
