import TensorCore

/// Ways of combining several epsilon predictions into the one a sampler steps with (METHODS.md 6).
public enum Guidance {
    /// Classifier-free guidance: eps_hat = eps_null + w * (eps_cond - eps_null).
    /// `eps_null` comes from the pass with text AND image tokens dropped together.
    public static func classifierFree(conditional: Tensor, unconditional: Tensor, scale w: Float) -> Tensor {
        combine([(unconditional, 1 - w), (conditional, w)])
    }

    /// Decoupled text and image guidance (text first, as InstructPix2Pix's two scales, with the image
    /// in the place of its edit instruction):
    /// eps_hat = eps_null + w_T (eps(T) - eps_null) + w_I (eps(T, I) - eps(T)), where eps(T) has the text and
    /// the null image tokens. With w_I = w_T it is plain CFG between eps(T, I) and eps_null.
    public static func decoupled(conditional: Tensor, textOnly: Tensor, unconditional: Tensor,
                                 textScale wT: Float, imageScale wI: Float) -> Tensor {
        combine([(unconditional, 1 - wT), (textOnly, wT - wI), (conditional, wI)])
    }

    /// DCO reward guidance (Lee et al., sec. 4.2):
    /// eps_hat = eps_ref(null) + w_text (eps_ref(c) - eps_ref(null)) + w_rg (eps_theta(c) - eps_ref(c)).
    /// With w_rg = 1 it is plain CFG on the reference model plus the full finetuning delta.
    public static func reward(referenceConditional: Tensor, referenceUnconditional: Tensor,
                              trainedConditional: Tensor, textScale: Float, rewardScale: Float) -> Tensor {
        combine([(referenceUnconditional, 1 - textScale),
                 (referenceConditional, textScale - rewardScale),
                 (trainedConditional, rewardScale)])
    }

    /// sum_k w_k * x_k for tensors of one shape.
    public static func combine(_ terms: [(Tensor, Float)]) -> Tensor {
        precondition(!terms.isEmpty, "Guidance.combine: no terms")
        let shape = terms[0].0.shape
        var out = Tensor(zeros: shape)
        for (x, w) in terms {
            precondition(x.shape == shape, "Guidance.combine: shapes \(shape) and \(x.shape)")
            for i in out.scalars.indices { out.scalars[i] += w * x.scalars[i] }
        }
        return out
    }

    /// HG-DPO latent adaptive normalisation (sec. 3.2): renormalise each (sample, channel) plane of `x` to
    /// the mean and standard deviation of the same plane of `reference` (the reference chain run from the
    /// same noise). x: [B, C, H, W]; population statistics; eps guards flat planes.
    public static func adaptiveNormalize(_ x: Tensor, toMatch reference: Tensor, eps: Float = 1e-6) -> Tensor {
        precondition(x.shape == reference.shape && x.rank == 4,
                     "adaptiveNormalize: need two [B, C, H, W] of one shape, got \(x.shape) and \(reference.shape)")
        let plane = x.shape[2] * x.shape[3]
        var out = x
        for p in 0..<(x.shape[0] * x.shape[1]) {
            let r = p * plane..<(p + 1) * plane
            let (mx, sx) = meanStd(x.scalars[r]), (mr, sr) = meanStd(reference.scalars[r])
            let gain = sr / max(sx, eps)
            for i in r { out.scalars[i] = (x.scalars[i] - mx) * gain + mr }
        }
        return out
    }

    static func meanStd(_ v: ArraySlice<Float>) -> (Float, Float) {
        var s = 0.0, s2 = 0.0
        for a in v { s += Double(a); s2 += Double(a) * Double(a) }
        let n = Double(v.count), m = s / n
        return (Float(m), Float(max(s2 / n - m * m, 0).squareRoot()))
    }
}
