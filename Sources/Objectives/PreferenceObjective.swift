import Autograd
import Diffusion
import Models
import TensorCore

/// A configured loss of METHODS.md 5 and the way it is fed: noise the batch with one (t, eps) per pair,
/// run the policy (and the frozen reference model when the loss needs it) on the stacked rows, and
/// evaluate the loss.
public struct PreferenceObjective: Sendable {
    public var kind: LossKind
    /// beta of the preference losses (ignored by `dm`, `patchdpo`, `patchdpo-aligned`, `sft`).
    public var beta: Float
    /// lambda_stat of `hg-dpo`.
    public var lambdaStat: Float
    /// `hg-dpo`: sample the reverse step with a shared z (true) or use the posterior mean (false).
    public var sampledStatStep: Bool
    public var schedule: NoiseSchedule
    /// Condition dropout per pair (PatchDPO's code: 0.05 each) and the null conditions it substitutes:
    /// the empty prompt's text states `[1, Lt, D]` and the zero image's encoder tokens `[1, N, E]`.
    public var conditionDropout: ConditionDropout
    public var nullText: Tensor?
    public var nullImage: Tensor?

    public init(kind: LossKind, beta: Float? = nil, lambdaStat: Float = 10000, sampledStatStep: Bool = true,
                schedule: NoiseSchedule = NoiseSchedule(), conditionDropout: ConditionDropout = .none,
                nullText: Tensor? = nil, nullImage: Tensor? = nil) {
        precondition(conditionDropout.isNone || (nullText != nil && nullImage != nil),
                     "PreferenceObjective: condition dropout needs the null text states and null image tokens")
        self.kind = kind
        self.beta = beta ?? Float(kind.defaultBeta)
        self.lambdaStat = lambdaStat
        self.sampledStatStep = sampledStatStep
        self.schedule = schedule
        self.conditionDropout = conditionDropout
        self.nullText = nullText
        self.nullImage = nullImage
    }

    /// Whether `PairNoise` must include z.
    public var needsStepNoise: Bool { kind == .hgDPO && sampledStatStep }

    /// The loss on `batch` with the given draws (graph recorded through the policy's trainable parameters).
    public func loss(policy: any PreferencePolicy, batch: PreferenceBatch, draw: PairNoise) throws(ObjectivesError) -> LossOutput {
        try batch.validate(for: kind)
        if policy.needsReferences && batch.coupling == nil {
            throw .badBatch(field: "coupling", reason: "is missing; a JeDi policy denoises each row beside its pair's reference (ReferenceCoupling(references:texts:))")
        }
        guard draw.pairs == batch.pairs, draw.noise.shape == batch.first.shape else {
            throw .badBatch(field: "noise", reason: "has shape \(draw.noise.shape) for a batch of shape \(batch.first.shape)")
        }
        let rows = kind.rowsPerPair
        let x0 = batch.stackedImages(rows: rows)
        let (t, eps) = draw.stacked(rows: rows)
        let xt = draw.noisy(x0, rows: rows, schedule: schedule)
        let text = PreferenceBatch.repeatRows(batch.text, rows: rows)
        let image = PreferenceBatch.repeatRows(batch.imageFeatures, rows: rows)
        var coupled: DiffusedReferences? = nil
        if let coupling = batch.coupling {
            guard let rn = draw.referenceNoise else {
                throw .badBatch(field: "noise", reason: "has no reference noise for a batch with reference attention (draw withReferenceNoise)")
            }
            coupled = coupling.diffused(rows: rows, timesteps: t.map { ReferenceSetMask.readTimestep($0, cap: policy.referenceTimestep) },
                                        noise: rn, schedule: schedule)
        }
        let pred = policy.predict(xt, timesteps: t, text: text, imageFeatures: image, coupled: coupled)
        let ref = kind.needsReference
            ? policy.predictReference(xt, timesteps: t, text: text, imageFeatures: image, coupled: coupled) : nil
        switch kind {
        case .dm, .sft:
            return diffusionLoss(prediction: pred, noise: eps)
        case .patchdpo, .patchdpoAligned:
            return patchDPOLoss(prediction: pred, noise: eps, referenceQuality: batch.referenceQuality!,
                                generatedQuality: batch.generatedQuality!)
        case .patchdpoPref:
            return patchDPOPrefLoss(prediction: pred, reference: ref!, noise: eps, referenceQuality: batch.referenceQuality!,
                                    generatedQuality: batch.generatedQuality!, beta: beta)
        case .diffusionDPO:
            return diffusionDPOLoss(prediction: pred, reference: ref!, noise: eps, beta: beta)
        case .dco:
            return dcoLoss(prediction: pred, reference: ref!, noise: eps, beta: beta)
        case .hgDPO:
            return hgDPOLoss(prediction: pred, reference: ref!, noise: eps, noisySample: xt, timesteps: draw.timesteps,
                             schedule: schedule, stepNoise: draw.stepNoise, beta: beta, lambdaStat: lambdaStat)
        }
    }
}
