import Autograd
import NN
import Optim
import Random
import TensorCore

/// What one optimizer step reports (the stage records these as metrics per step).
public struct StepMetrics: Sendable, Equatable {
    public var loss: Double
    /// Share of pairs with a positive preference logit; nil for losses without one.
    public var implicitAccuracy: Double?
    /// 2-norm of the trainable parameters' gradient before clipping.
    public var gradNorm: Double
    public var parts: [String: Double]

    public init(loss: Double, implicitAccuracy: Double?, gradNorm: Double, parts: [String: Double]) {
        self.loss = loss; self.implicitAccuracy = implicitAccuracy; self.gradNorm = gradNorm; self.parts = parts
    }
}

extension PreferenceObjective {
    /// One training step: draw one (t, eps) per pair from `rng`, then the pairs' condition dropout (when
    /// on; `parts["dropped_pairs"]`), evaluate the loss, back-propagate into the
    /// policy's trainable weights, clip the gradient's 2-norm to `maxGradNorm` (<= 0: no clipping), update with `optimizer`
    /// (keys = the weights' keys), clear the gradients. Frozen parameters never receive gradients.
    public func step<O: Optimizer>(policy: any PreferencePolicy, batch: PreferenceBatch, rng: inout RandomStream,
                                   optimizer: inout O, maxGradNorm: Double) throws(ObjectivesError) -> StepMetrics {
        let draw = PairNoise.draw(pairs: batch.pairs, imageShape: batch.imageShape,
                                  trainSteps: schedule.trainSteps, withStepNoise: needsStepNoise,
                                  withReferenceNoise: batch.coupling != nil, rng: &rng)
        var batch = batch, dropped: Int? = nil
        if !conditionDropout.isNone {
            (batch, dropped) = conditionDropout.apply(batch, nullText: nullText!, nullImage: nullImage!, rng: &rng)
        }
        let trainable = policy.trainable
        precondition(!trainable.isEmpty, "PreferenceObjective.step: the policy has no trainable parameters")
        zeroGrad(trainable.map(\.1))
        let out = try loss(policy: policy, batch: batch, draw: draw)
        if out.loss.requiresGrad { out.loss.backward() }
        var grads: [String: [Float]] = [:]
        for (key, p) in trainable { grads[key] = (p.grad ?? Tensor(zeros: p.shape)).scalars }
        // An infinite bound gives coef 1 exactly: the norm (summed in key order) without clipping.
        let norm = GradClip.clipGradNorm(&grads, maxNorm: maxGradNorm > 0 ? maxGradNorm : .infinity)
        for (key, p) in trainable.sorted(by: { $0.0 < $1.0 }) {
            grads[key]!.withUnsafeBufferPointer { gp in
                p.value.scalars.withUnsafeMutableBufferPointer { pp in optimizer.update(key, parameter: pp, gradient: gp) }
            }
        }
        zeroGrad(trainable.map(\.1))
        var parts = out.parts
        if let dropped { parts["dropped_pairs"] = Double(dropped) }
        return StepMetrics(loss: Double(out.loss.item), implicitAccuracy: out.implicitAccuracy,
                           gradNorm: Double(norm), parts: parts)
    }
}
