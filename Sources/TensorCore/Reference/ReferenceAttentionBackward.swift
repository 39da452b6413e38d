import Foundation

extension Reference {
    /// Naive backward of scaled dot-product attention on `q [B, H, Lq, D]`, `k [B, H, Lk, D]`,
    /// `v [B, H, Lk, Dv]`, `gO = dL/dO [B, H, Lq, Dv]`, with an optional additive mask (a constant),
    /// by the chain rule through the forward of `Reference.attention`, in Double, per (b, h):
    ///   `S_ij = scale sum_t Q_it K_jt + mask_ij`, `P_i = softmax(S_i)`, `O_it = sum_j P_ij V_jt`;
    ///   `dV_jt = sum_i P_ij dO_it`, `dP_ij = sum_t dO_it V_jt`,
    ///   `dS_ij = sum_l dP_il dP_il/dS_ij = sum_l dP_il P_il (delta_lj - P_ij)` (softmax Jacobian),
    ///   `dQ_it = scale sum_j dS_ij K_jt`, `dK_jt = scale sum_i dS_ij Q_it`.
    /// The probabilities are recomputed from q, k and the mask (not taken from the fast forward).
    static func attentionBackward(_ gO: Tensor, _ q: Tensor, _ k: Tensor, _ v: Tensor, mask: Tensor?,
                                  scale: Double) -> (dq: Tensor, dk: Tensor, dv: Tensor) {
        let (b, h, lq, d) = (q.shape[0], q.shape[1], q.shape[2], q.shape[3])
        let lk = k.shape[2], dvDim = v.shape[3]
        var dq = [Double](repeating: 0, count: q.count), dk = [Double](repeating: 0, count: k.count)
        var dv = [Double](repeating: 0, count: v.count)
        for bi in 0..<b { for hi in 0..<h {
            var p = [[Double]](repeating: [], count: lq)
            for i in 0..<lq {
                var s = [Double](repeating: 0, count: lk)
                for j in 0..<lk {
                    for t in 0..<d { s[j] += Double(q[[bi, hi, i, t]]) * Double(k[[bi, hi, j, t]]) }
                    s[j] *= scale
                    if let mask { s[j] += Double(broadcastElement(mask, [bi, hi, i, j])) }
                }
                p[i] = softmaxRow(s)
            }
            for j in 0..<lk { for t in 0..<dvDim { for i in 0..<lq {
                dv[v.offset(of: [bi, hi, j, t])] += p[i][j] * Double(gO[[bi, hi, i, t]])
            } } }
            var dp = [[Double]](repeating: [Double](repeating: 0, count: lk), count: lq)
            for i in 0..<lq { for j in 0..<lk { for t in 0..<dvDim {
                dp[i][j] += Double(gO[[bi, hi, i, t]]) * Double(v[[bi, hi, j, t]])
            } } }
            var ds = [[Double]](repeating: [Double](repeating: 0, count: lk), count: lq)
            for i in 0..<lq { for j in 0..<lk { for l in 0..<lk {
                ds[i][j] += dp[i][l] * p[i][l] * ((l == j ? 1 : 0) - p[i][j])
            } } }
            for i in 0..<lq { for j in 0..<lk { for t in 0..<d {
                dq[q.offset(of: [bi, hi, i, t])] += scale * ds[i][j] * Double(k[[bi, hi, j, t]])
                dk[k.offset(of: [bi, hi, j, t])] += scale * ds[i][j] * Double(q[[bi, hi, i, t]])
            } } }
        } }
        return (tensor(q.shape, dq), tensor(k.shape, dk), tensor(v.shape, dv))
    }
}
