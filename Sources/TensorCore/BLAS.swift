import CBLAS

/// The only file that calls BLAS. Row-major single-precision GEMM:
/// `C[M, N] = alpha * op(A) op(B) + beta * C`, `op(A)` is `[M, K]`, `op(B)` is `[K, N]`.
/// `lda`, `ldb`, `ldc` are the row strides of A, B, C as stored (before transposition).
@inline(__always)
func sgemm(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
    alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int,
    beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
) {
    if m == 0 || n == 0 { return }
    Threads.prepareBLAS()
    if k == 0 {
        // BLAS would leave C scaled by beta; do it explicitly for clarity.
        for i in 0..<m { for j in 0..<n { c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j] } }
        return
    }
    cblas_sgemm(
        CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
        Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}
