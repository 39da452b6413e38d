import TensorCore

extension Variable {
    /// Matrix product over the last two axes: [.., M, K] x [.., K, N] -> [.., M, N]
    /// (a rank-2 right operand broadcasts over the batch).
    /// d/da = g b^T, d/db = a^T g (summed over the batch when b was broadcast).
    public func matmul(_ b: Variable) -> Variable {
        let av = value, bv = b.value
        let y = Kernels.matmul(av, bv)
        return Variable.record("matmul", y, inputs: [self, b]) { g in
            let da: Tensor? = self.requiresGrad ? Kernels.matmul(g, bv, transposeB: true) : nil
            var db: Tensor? = nil
            if b.requiresGrad {
                if bv.rank == 2 && av.rank > 2 {
                    // Fold the batch into M: [B*M, K]^T x [B*M, N] = [K, N].
                    let k = av.shape[av.rank - 1], n = g.shape[g.rank - 1]
                    db = Kernels.matmul(av.reshaped([-1, k]), g.reshaped([-1, n]), transposeA: true)
                } else {
                    db = Kernels.matmul(av, g, transposeA: true)
                }
            }
            return [da, db]
        }
    }
}

/// y = x W^T + b (PyTorch Linear) for x [.., in], W [out, in], b [out]; composed from matmul,
/// transpose and broadcasting add, so it has no rule of its own.
public func linear(_ x: Variable, weight: Variable, bias: Variable?) -> Variable {
    let y = x.matmul(weight.transposed(0, 1))
    return bias.map { y + $0 } ?? y
}
