import Autograd
import NN
import TensorCore

/// JeDi's coupled self-attention (Zeng et al. 2024, sec. 3.2 and Fig. 6): the tokens of every image of a
/// same-subject set attend to the tokens of every image of that set.
///
/// x [N, L, C] holds N = B * S images in sets of S consecutive rows (set b is rows b*S ..< (b+1)*S):
///   x' = reshape(x, [B, S * L, C])          the set's S token sequences side by side
///   y' = attention(x')                      ordinary multi-head self-attention (same weights, no mask)
///   y  = reshape(y', [N, L, C])
/// i.e. for image s of set b, token l: y[bS+s, l] = sum over (s', l') of softmax_(s', l')(q k^T / sqrt(d)) v,
/// the softmax running over all S * L tokens of the set. No new parameters: the keys stay `attn1.*`.
/// setSize 1 is the ordinary per-image self-attention (the same call, bit for bit). Gradients flow through
/// the reshapes and the fused attention kernel unchanged.
extension Attention {
    /// `mask`: additive over each set's S * L keys, broadcastable to [B, heads, S * L, S * L] (`ReferenceSetMask`).
    /// The U-Net passes none (JeDi couples plainly); reference attention's masked sets run in `referenceSets`, which
    /// computes the same attention without the dense mask, and ReferenceSetAttentionTests check it against this form.
    public func coupled(_ x: Variable, setSize: Int, mask: Tensor? = nil) -> Variable {
        precondition(x.shape.count == 3 && setSize >= 1 && x.shape[0] % setSize == 0,
                     "Attention.coupled: x \(x.shape) is not [B * S, L, C] for set size S = \(setSize)")
        guard setSize > 1 else { return self(x, mask: mask) }
        let n = x.shape[0], l = x.shape[1], c = x.shape[2]
        return self(x.reshaped([n / setSize, setSize * l, c]), mask: mask).reshaped([n, l, c])
    }
}
