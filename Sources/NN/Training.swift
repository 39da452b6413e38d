import Autograd
import Optim
import TensorCore

/// Glue between modules and the flat-buffer optimizers of `Optim`.
extension Module {
    /// One optimizer update of every trainable parameter that has a gradient, by PyTorch key
    /// (the optimizer's state is keyed by the same names). Parameters without a gradient are
    /// skipped, as PyTorch skips `p.grad is None`. Gradients are left in place (call `zeroGrad`).
    public func step<O: Optimizer>(_ optimizer: inout O) {
        for (key, p) in trainableParameters() {
            guard let g = p.grad else { continue }
            precondition(g.shape == p.shape, "step: gradient of '\(key)' has shape \(g.shape), parameter \(p.shape)")
            g.scalars.withUnsafeBufferPointer { gp in
                p.value.scalars.withUnsafeMutableBufferPointer { pp in
                    optimizer.update(key, parameter: pp, gradient: gp)
                }
            }
        }
    }

    /// The loss `f()` and its gradient for every trainable parameter, keyed by PyTorch name
    /// (this call's gradients only; see Autograd's `valueAndGrad(of:at:)`).
    public func valueAndGrad(of f: () throws -> Variable) rethrows -> (value: Float, grads: [String: Tensor]) {
        let named = trainableParameters()
        let (v, g) = try Autograd.valueAndGrad(of: f, at: named.map(\.1))
        return (v, Dictionary(uniqueKeysWithValues: zip(named.map(\.0), g)))
    }

    /// `torch.nn.utils.clip_grad_norm_` over the trainable parameters' gradients: scales them in
    /// place by min(1, maxNorm / (norm + 1e-6)) and returns the total 2-norm before clipping.
    @discardableResult
    public func clipGradNorm(maxNorm: Double) -> Float {
        let params = trainableParameters().filter { $0.1.grad != nil }
        var grads = Dictionary(uniqueKeysWithValues: params.map { ($0.0, $0.1.grad!.scalars) })
        let norm = GradClip.clipGradNorm(&grads, maxNorm: maxNorm)
        for (key, p) in params { p.grad = Tensor(shape: p.shape, scalars: grads[key]!) }
        return norm
    }
}
