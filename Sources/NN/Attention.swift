import Autograd
import Random
import TensorCore

/// Multi-head attention with diffusers' `Attention` keys (self- or cross-attention).
///
/// x [B, L, queryDim], context [B, Lk, contextDim] (nil: self-attention, context = x):
///   q = to_q(x), k = to_k(context), v = to_v(context)          (inner = heads * headDim, no bias)
///   per head h: o_h = softmax(q_h k_h^T / sqrt(headDim) + mask) v_h
///   y = to_out.0(concat_h o_h)                                   (Linear(inner, queryDim) with bias)
/// Parameters: `to_q.weight` [inner, queryDim], `to_k.weight`, `to_v.weight` [inner, contextDim],
/// `to_out.0.weight` [queryDim, inner], `to_out.0.bias` [queryDim]. diffusers' `to_out.1`
/// (Dropout) has no parameters and is omitted.
public final class Attention: Module {
    public let heads: Int
    public let headDim: Int
    public let toQ: Linear
    public let toK: Linear
    public let toV: Linear
    public let toOut: Linear

    public init(queryDim: Int, contextDim: Int? = nil, heads: Int, headDim: Int, qkvBias: Bool = false, key: RNGKey) {
        let inner = heads * headDim
        self.heads = heads
        self.headDim = headDim
        toQ = Linear(queryDim, inner, bias: qkvBias, key: key.fold(in: "to_q"))
        toK = Linear(contextDim ?? queryDim, inner, bias: qkvBias, key: key.fold(in: "to_k"))
        toV = Linear(contextDim ?? queryDim, inner, bias: qkvBias, key: key.fold(in: "to_v"))
        toOut = Linear(inner, queryDim, bias: true, key: key.fold(in: "to_out.0"))
    }

    public var children: [(String, any Module)] {
        [("to_q", toQ), ("to_k", toK), ("to_v", toV), ("to_out.0", toOut)]
    }

    /// `mask`: additive, broadcastable to [B, heads, L, Lk] (e.g. [L, Lk] or [B, 1, L, Lk]).
    public func callAsFunction(_ x: Variable, context: Variable? = nil, mask: Tensor? = nil) -> Variable {
        let ctx = context ?? x
        precondition(x.shape.count == 3 && ctx.shape.count == 3 && x.shape[0] == ctx.shape[0],
                     "Attention: x \(x.shape), context \(ctx.shape) (want [B, L, C] and [B, Lk, Cc])")
        return self(x, keys: toK(ctx), values: toV(ctx), mask: mask)
    }

    /// x's queries over keys and values already projected ([B, Lk, H*D], e.g. `toK` and `toV` of a context, joined with
    /// others: reference attention's recorded keys, `Models.ReferenceKeys`).
    public func callAsFunction(_ x: Variable, keys: Variable, values: Variable, mask: Tensor? = nil) -> Variable {
        // One fused kernel on the [B, L, H*D] projections (no head permutes), the mask added to the scores.
        toOut(multiHeadAttention(toQ(x), keys, values, heads: heads, mask: mask))
    }

    /// [B, L, H*D] -> [B, H, L, D].
    public func splitHeads(_ t: Variable) -> Variable {
        let b = t.shape[0], l = t.shape[1]
        return t.reshaped([b, l, heads, headDim]).permuted([0, 2, 1, 3])
    }

    /// [B, H, L, D] -> [B, L, H*D].
    public func mergeHeads(_ t: Variable) -> Variable {
        let b = t.shape[0], l = t.shape[2]
        return t.permuted([0, 2, 1, 3]).reshaped([b, l, heads * headDim])
    }
}
