import Autograd
import Models
import NN
import TensorCore

/// An auxiliary figure-ground loss for the classification ViT, from the world's ground truth: a
/// Linear(D, 1) `head` on each patch token after the final norm predicts the share of the patch
/// covered by the object, L_fg = mean_(b, i) (sigmoid(head(x_bi)) - c_bi)^2 with c_bi the mean of
/// the render's coverage mask over cell i. It tells the model where the object is, which category
/// labels alone teach slowly on textured backgrounds (data/checkpoints/README.md). The head is a
/// training aid: it is not part of the saved ViT (timm keys unchanged).
public enum ForegroundAuxiliary {
    /// Per-cell mean coverage, [B, N, 1] with N = (size / patch)^2 in row-major cell order.
    public static func cellCoverage(_ coverage: [Float], batch: Int, size: Int, patch: Int) -> Tensor {
        precondition(coverage.count == batch * size * size && patch > 0 && size % patch == 0,
                     "ForegroundAuxiliary: \(coverage.count) coverage values for \(batch) x \(size)^2, patch \(patch)")
        let side = size / patch
        var out = [Float](repeating: 0, count: batch * side * side)
        let inv = 1 / Float(patch * patch)
        for b in 0..<batch {
            for y in 0..<size {
                for x in 0..<size {
                    out[(b * side + y / patch) * side + x / patch] += coverage[(b * size + y) * size + x] * inv
                }
            }
        }
        return Tensor(shape: [batch, side * side, 1], scalars: out)
    }

    /// L_fg on the patch tokens of `out.final` ([B, 1 + N, D]) against `target` [B, N, 1].
    public static func loss(_ out: ViTOutput, head: Linear, target: Tensor) -> Variable {
        let tokens = out.finalPatchTokens                                         // [B, N, D]
        precondition(target.shape == [tokens.shape[0], tokens.shape[1], 1],
                     "ForegroundAuxiliary: target \(target.shape) for tokens \(tokens.shape)")
        return mseLoss(head(tokens).sigmoid(), Variable(target))
    }
}
