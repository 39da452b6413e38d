/// Gradient-norm clipping, as `torch.nn.utils.clip_grad_norm_` (norm type 2):
/// ```
/// total = sqrt(sum_p ||g_p||^2)
/// coef  = min(maxNorm / (total + 1e-6), 1)
/// g_p  <- g_p * coef            (for every p, also when coef == 1)
/// ```
/// Norms are accumulated in Double (torch uses float32; the difference is within rounding).
/// Returns `total` (before clipping). A non-finite total propagates into the gradients,
/// as in torch with `error_if_nonfinite=False`; check the returned norm to skip such steps.
public enum GradClip {
    public static func clipGradNorm(_ gradients: [UnsafeMutableBufferPointer<Float>], maxNorm: Double) -> Float {
        var sumSquares = 0.0
        for g in gradients {
            var s = 0.0
            for x in g { s += Double(x) * Double(x) }
            sumSquares += s
        }
        let total = sumSquares.squareRoot()
        let coef = Float(min(maxNorm / (total + 1e-6), 1))
        for g in gradients {
            for i in g.indices { g[i] *= coef }
        }
        return Float(total)
    }

    /// The same over named arrays.
    public static func clipGradNorm(_ gradients: inout [String: [Float]], maxNorm: Double) -> Float {
        var sumSquares = 0.0
        for name in gradients.keys.sorted() {
            var s = 0.0
            for x in gradients[name]! { s += Double(x) * Double(x) }
            sumSquares += s
        }
        let total = sumSquares.squareRoot()
        let coef = Float(min(maxNorm / (total + 1e-6), 1))
        for name in gradients.keys {
            gradients[name]!.withUnsafeMutableBufferPointer { g in
                for i in g.indices { g[i] *= coef }
            }
        }
        return Float(total)
    }
}
