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

/// y = x W^T + b (PyTorch Linear) for x [.., in], W [out, in], b [out]. Without a bias it is
/// `matmul` with sgemm's transpose flag; with one, a fused op (`Kernels.linear`: the bias is the
/// sgemm's starting C) with the rules dx = g W, dW = g^T x (leading axes folded), db = sum of g
/// over the leading axes: the same values as matmul + broadcasting add, one pass less.
public func linear(_ x: Variable, weight: Variable, bias: Variable?) -> Variable {
    guard let bias else { return x.matmul(weight, transposeB: true) }
    let xv = x.value, wv = weight.value
    return Variable.record("linear", Kernels.linear(xv, weight: wv, bias: bias.value), inputs: [x, weight, bias]) { g in
        let k = xv.shape[xv.rank - 1], n = wv.shape[0]
        let dx: Tensor? = x.requiresGrad ? Kernels.matmul(g, wv) : nil
        let dw: Tensor? = weight.requiresGrad
            ? Kernels.matmul(g.reshaped([-1, n]), xv.reshaped([-1, k]), transposeA: true) : nil
        let db: Tensor? = bias.requiresGrad ? Kernels.sum(g, axes: Array(0..<(g.rank - 1))) : nil
        return [dx, dw, db]
    }
}
