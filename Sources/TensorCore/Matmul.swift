/// Matrix products through `cblas_sgemm` (BLAS.swift).
extension Kernels {
    /// `op(a) op(b)` where `op` transposes the last two axes when the flag is set.
    ///
    /// Shapes: `a [..., M, K]` (or `[..., K, M]` with `transposeA`), `b [..., K, N]` (or `[..., N, K]`).
    /// Batch axes of `a` and `b` must be equal, or `b` has rank 2 and is shared by every batch
    /// (then, without `transposeA`, the batch folds into M for one large sgemm).
    /// Result: `[..., M, N]`.
    public static func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
        precondition(a.rank >= 2 && b.rank >= 2, "matmul: need rank >= 2, got \(a.shape) and \(b.shape)")
        let ar = a.rank, br = b.rank
        let m = transposeA ? a.shape[ar - 1] : a.shape[ar - 2]
        let k = transposeA ? a.shape[ar - 2] : a.shape[ar - 1]
        let kb = transposeB ? b.shape[br - 1] : b.shape[br - 2]
        let n = transposeB ? b.shape[br - 2] : b.shape[br - 1]
        precondition(k == kb, "matmul: inner extents differ: \(a.shape)\(transposeA ? "^T" : "") x \(b.shape)\(transposeB ? "^T" : "")")
        let batchA = Array(a.shape.dropLast(2)), batchB = Array(b.shape.dropLast(2))
        precondition(batchB.isEmpty || batchA == batchB,
                     "matmul: batch axes \(batchA) and \(batchB) must match (or b must be rank 2): \(a.shape) x \(b.shape)")
        let batch = batchA.reduce(1, *)
        var out = uninitializedStorage(batch * m * n)
        if out.isEmpty { return Tensor(shape: batchA + [m, n], scalars: out) }
        let lda = a.shape[ar - 1], ldb = b.shape[br - 1]
        a.scalars.withUnsafeBufferPointer { pa in
            b.scalars.withUnsafeBufferPointer { pb in
                out.withUnsafeMutableBufferPointer { po in
                    let pa = pa.baseAddress!, pb = pb.baseAddress!, po = po.baseAddress!
                    if batchB.isEmpty && !transposeA {
                        sgemm(transA: false, transB: transposeB, m: batch * m, n: n, k: k,
                              a: pa, lda: lda, b: pb, ldb: ldb, c: po, ldc: n)
                        return
                    }
                    let strideB = batchB.isEmpty ? 0 : k * n
                    for i in 0..<batch {
                        sgemm(transA: transposeA, transB: transposeB, m: m, n: n, k: k,
                              a: pa + i * m * k, lda: lda, b: pb + i * strideB, ldb: ldb,
                              c: po + i * m * n, ldc: n)
                    }
                }
            }
        }
        return Tensor(shape: batchA + [m, n], scalars: out)
    }

    /// Gradients of `c = matmul(a, b)` (no transposes) given `grad = dL/dc`:
    /// `da = grad b^T`, `db = a^T grad` (summed over the batch when `b` is rank 2).
    public static func matmulBackward(_ grad: Tensor, a: Tensor, b: Tensor) -> (Tensor, Tensor) {
        let da = matmul(grad, b, transposeB: true)
        if b.rank == 2 && a.rank > 2 {
            let k = a.shape[a.rank - 1], n = grad.shape[grad.rank - 1]
            return (da, matmul(a.reshaped([-1, k]), grad.reshaped([-1, n]), transposeA: true))
        }
        return (da, matmul(a, grad, transposeA: true))
    }

    /// `y [.., out] = x [.., in] W^T + b` (PyTorch Linear) for `W [out, in]`, `b [out]`: every row of
    /// `y` starts as `b` and one sgemm adds the product (beta 1), a pass less than matmul then add.
    public static func linear(_ x: Tensor, weight: Tensor, bias: Tensor) -> Tensor {
        precondition(x.rank >= 1 && weight.rank == 2 && x.shape[x.rank - 1] == weight.shape[1] && bias.shape == [weight.shape[0]],
                     "linear: x \(x.shape), weight \(weight.shape), bias \(bias.shape) (want [.., in], [out, in], [out])")
        let k = weight.shape[1], n = weight.shape[0], m = x.shape.dropLast().reduce(1, *)
        let shape = Array(x.shape.dropLast()) + [n]
        var out = uninitializedStorage(m * n)
        if out.isEmpty { return Tensor(shape: shape, scalars: out) }
        out.withUnsafeMutableBufferPointer { po in
            bias.scalars.withUnsafeBufferPointer { pb in
                for r in 0..<m { (po.baseAddress! + r * n).update(from: pb.baseAddress!, count: n) }
            }
            x.scalars.withUnsafeBufferPointer { px in
                weight.scalars.withUnsafeBufferPointer { pw in
                    sgemm(transA: false, transB: true, m: m, n: n, k: k, a: px.baseAddress!, lda: k,
                          b: pw.baseAddress!, ldb: k, beta: 1, c: po.baseAddress!, ldc: n)
                }
            }
        }
        return Tensor(shape: shape, scalars: out)
    }
}
