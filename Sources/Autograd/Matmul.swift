import TensorCore

extension Variable {
    /// Matrix product over the last two axes: [.., M, K] x [.., K, N] -> [.., M, N], or with
    /// `transposeB` [.., M, K] x [.., N, K]^T -> [.., M, N] (sgemm's transpose flag, no copy).
    /// A rank-2 right operand broadcasts over the batch.
    /// Rules: plain: da = g b^T, db = a^T g; transposed: da = g b, db = g^T a; db is summed over
    /// the batch when b was broadcast (computed as one GEMM with the batch folded into M).
    public func matmul(_ b: Variable, transposeB: Bool = false) -> Variable {
        let av = value, bv = b.value
        let y = Kernels.matmul(av, bv, transposeB: transposeB)
        return Variable.record("matmul", y, inputs: [self, b]) { g in
            let da: Tensor? = self.requiresGrad ? Kernels.matmul(g, bv, transposeB: !transposeB) : nil
            var db: Tensor? = nil
            if b.requiresGrad {
                let folded = bv.rank == 2 && av.rank > 2
                let a2 = folded ? av.reshaped([-1, av.shape[av.rank - 1]]) : av
                let g2 = folded ? g.reshaped([-1, g.shape[g.rank - 1]]) : g
                db = transposeB ? Kernels.matmul(g2, a2, transposeA: true) : Kernels.matmul(a2, g2, transposeA: true)
            }
            return [da, db]
        }
    }
}

/// y = x W^T + b (PyTorch Linear) for x [.., in], W [out, in], b [out]; composed from matmul
/// (with sgemm's transpose flag) and broadcasting add, so it has no rule of its own.
public func linear(_ x: Variable, weight: Variable, bias: Variable?) -> Variable {
    let y = x.matmul(weight, transposeB: true)
    return bias.map { y + $0 } ?? y
}
