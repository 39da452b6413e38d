import Autograd
import Models
import NN
import TensorCore

/// JeDi (paper 004) as the generator being preference-trained (issue 17 item 5): each row x_i is the unknown member
/// of the joint set [reference_i; x_i], the reference known and captioned, as `JeDiSampler` personalizes; eps_theta
/// is the U-Net's prediction for the x rows. The reference model is the same U-Net with the trained weights
/// switched to a frozen copy (`PolicyWeights`).
///
/// Input of each set (`JeDiUNet.input`): the reference row [m = 0, its diffused reference, its clean reference] with
/// the reference's caption, the image row [m = 1, x_t, 0] with the row's text. A pair whose image condition is
/// dropped has its reference unknown ([m = 1, diffused reference, 0]), and a dropped text nulls both captions: the
/// sampler's null branches. Image-encoder tokens are not read (JeDi has none).
public final class JeDiPolicy: PreferencePolicy {
    public let unet: UNet2DConditionModel
    public let weights: PolicyWeights
    public var needsReferences: Bool { true }
    /// JeDi reads its reference diffused to the row's own timestep, as `JeDiSampler` replaces it.
    public var referenceTimestep: Int? { nil }
    public let trainable: JeDiTrainable
    public var trainableName: String { trainable.rawValue }

    /// Freezes every weight of `unet` but those `trainable` includes; snapshots them as the reference model.
    public init(unet: UNet2DConditionModel, trainable: JeDiTrainable) {
        precondition(JeDiUNet.readsInpaintingInput(unet.config), "JeDiPolicy: the U-Net reads \(unet.config.inChannels) channels, not a JeDi input")
        self.unet = unet
        self.trainable = trainable
        let entries = trainable.parameters(of: unet)
        unet.setRequiresGrad(false)
        for (_, p) in entries { p.requiresGrad = true }
        weights = PolicyWeights(entries)
    }

    public func predict(_ x: Tensor, timesteps: [Int], text: Tensor, imageFeatures: Tensor, coupled: DiffusedReferences?) -> Variable {
        guard let coupled, let captions = coupled.texts else {
            preconditionFailure("JeDiPolicy.predict: every row needs its reference and the reference's caption (ReferenceCoupling(references:texts:))")
        }
        let pairs = { (r: Tensor, x: Tensor) in ReferenceSetMask.pairs(references: r, images: x) }
        let known = coupled.known.flatMap { [$0, false] }
        let input = JeDiUNet.input(noisy: pairs(coupled.references, x), clean: pairs(coupled.clean, Tensor(zeros: x.shape)), known: known)
        let y = unet.forward(Variable(input), timesteps: timesteps.flatMap { [$0, $0] }, text: Variable(pairs(captions, text)),
                             imageTokens: nil, ipScale: 0, setSize: 2)
        return ReferenceSetMask.imageRows(y)
    }
}
