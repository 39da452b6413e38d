import Autograd
import Models
import TensorCore

/// The self-supervised finetuning loss of PatchDPO 4.2.2 (METHODS 3), for a batch of images x
/// [B, 3, S, S] and one transform T, summed over the tapped `blocks`:
///   L = sum_L [ mean( (T(phi_L(x)) - phi_L(T(x)))^2 ) + lambdaReg * mean( (phi_L(x) - phi0_L(x))^2 ) ]
/// phi_L = patch tokens after block L of the model being trained, [B, N, D]; phi0 the frozen
/// original (evaluated without gradient); T acts on the token grid by the same permutation as on
/// pixels (`GridTransform`). Deviation, stated: the squared norms are means over the B N D elements
/// (not sums), so the loss scale does not depend on batch or width; the learning rate absorbs it.
/// Option (not in the paper): `jitter` re-lights the transformed view, T(x) -> T(J(x)), so the same
/// term also asks for features that ignore lighting (`PhotometricJitter`).
public enum SSLLoss {
    public struct Terms {
        /// The whole loss (a scalar with gradient to the model's parameters).
        public let loss: Variable
        /// The equivariance part and the regulariser part (values only, summed over blocks).
        public let equivariance: Float
        public let regularizer: Float
    }

    public static func compute(model: ViT, frozen: ViT, images: Tensor, transform: GridTransform,
                               blocks: [Int], lambdaReg: Float, jitter: [PhotometricJitter]? = nil) -> Terms {
        precondition(!blocks.isEmpty, "SSLLoss: no blocks")
        precondition(model.config == frozen.config, "SSLLoss: model \(model.config) and frozen \(frozen.config) differ")
        let side = model.config.imageSize / model.config.patchSize
        let x = Variable(images)
        let tx = Variable(transform.apply(toImages: jitter.map { PhotometricJitter.apply($0, toImages: images) } ?? images))
        let out = ViTTaps.forward(model, x, taps: blocks)
        let outT = ViTTaps.forward(model, tx, taps: blocks)
        let ref = withNoGrad { ViTTaps.forward(frozen, x, taps: blocks) }
        var total: Variable?
        var eq: Float = 0, reg: Float = 0
        for block in blocks {
            let f = ViTTaps.patchTokens(out, after: block)
            let e = mseLoss(transform.apply(toTokens: f, side: side), ViTTaps.patchTokens(outT, after: block))
            let r = mseLoss(f, ViTTaps.patchTokens(ref, after: block).detached())
            eq += e.item; reg += r.item
            let term = e + r * lambdaReg
            total = total.map { $0 + term } ?? term
        }
        return Terms(loss: total!, equivariance: eq, regularizer: reg)
    }
}
