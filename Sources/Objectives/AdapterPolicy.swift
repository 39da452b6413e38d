import Autograd
import Checkpoint
import Models
import NN
import TensorCore

/// The IP-Adapter generator being preference-trained: a frozen U-Net whose image branch (every
/// `to_k_ip`/`to_v_ip`, and the resampler when `trainResampler`) is trainable, with every self-attention too when
/// `trainable` is `.imageAndAttention`, plus a frozen copy of those weights that serves as the reference model eps_ref
/// (METHODS.md 5).
///
/// The reference model is the SAME U-Net with the adapter switched to the frozen copy's weights for the
/// duration of a no-grad forward (`predictReference`), then switched back. The U-Net, text encoder and
/// image encoder never change, so this equals a second full model without its memory.
/// Adapter keys (IP-Adapter naming): `image_proj.<resampler key>` then the U-Net's `...attn2.to_k_ip.weight`,
/// `...attn2.to_v_ip.weight`.
public final class AdapterPolicy: PreferencePolicy {
    public let unet: UNet2DConditionModel
    public let resampler: Resampler
    public let ipScale: Float
    public let weights: PolicyWeights
    public var needsReferences: Bool { false }
    /// The timestep the adapter was trained to read its reference at (`Generator.trainedReferenceTimestep`); nil = the row's.
    public let referenceTimestep: Int?

    /// Which U-Net weights train beside the image branch (`AdapterTrainable`).
    public let trainable: AdapterTrainable
    public var trainableName: String { trainable.rawValue }

    /// Freezes everything but the adapter (`Models.adapterParameters`) and `trainable`'s U-Net weights, then the
    /// resampler too unless `trainResampler`; snapshots the current values of them all as the reference model.
    public init(unet: UNet2DConditionModel, resampler: Resampler, trainResampler: Bool, ipScale: Float = 1, referenceTimestep: Int? = nil,
                trainable: AdapterTrainable = .image) {
        self.unet = unet
        self.resampler = resampler
        self.ipScale = ipScale
        self.referenceTimestep = referenceTimestep
        self.trainable = trainable
        let extra = trainable.extraParameters(of: unet)
        let adapter = adapterParameters(unet: unet, resampler: resampler)
        for (_, p) in extra { p.requiresGrad = true }
        weights = PolicyWeights(adapter + extra)
        if !trainResampler { resampler.setRequiresGrad(false) }
    }

    /// Every adapter parameter with its key (trainable or not), in a fixed order.
    public var adapter: [(String, Parameter)] { weights.entries }

    /// eps_theta(x_t, t, text, resampler(imageFeatures)) with the graph recorded.
    /// Shapes: x `[R, C, H, W]`, timesteps `[R]`, text `[R, Lt, D]`, imageFeatures `[R, N, E]`.
    /// `coupled`: reference attention (`ReferenceCoupling`): each row x_i is denoised in the set [reference_i, x_i]
    /// (references `[R, C, H, W]` already diffused to their `timesteps`, both members with the row's conditions)
    /// under its mask, and only the x rows are returned.
    public func predict(_ x: Tensor, timesteps: [Int], text: Tensor, imageFeatures: Tensor, coupled: DiffusedReferences? = nil) -> Variable {
        guard let coupled else {
            let tokens = resampler.forward(Variable(imageFeatures))
            return unet.forward(Variable(x), timesteps: timesteps, text: Variable(text), imageTokens: tokens, ipScale: ipScale)
        }
        guard let mask = coupled.mask else { preconditionFailure("AdapterPolicy.predict: reference attention needs the references' foreground") }
        let twice = { (a: Tensor) in ReferenceSetMask.pairs(references: a, images: a) }
        let tokens = resampler.forward(Variable(twice(imageFeatures)))
        let y = unet.forward(Variable(ReferenceSetMask.pairs(references: coupled.references, images: x)),
                             timesteps: ReferenceSetMask.setTimesteps(references: coupled.timesteps, images: timesteps), text: Variable(twice(text)), imageTokens: tokens,
                             ipScale: ipScale, setSize: 2, setMask: mask)
        return ReferenceSetMask.imageRows(y)
    }

    /// The adapter as a safetensors file (`image_proj.*` + every `to_k_ip`/`to_v_ip`, + every `...attn1.*` when they train).
    public func adapterStateDict() -> SafeTensorsFile { weights.stateDict() }

    /// Loads adapter weights (all keys, strictly); with `asReference` the frozen copy instead.
    public func loadAdapter(_ file: SafeTensorsFile, path: String, asReference: Bool = false) throws(CheckpointError) {
        try weights.load(file, path: path, asReference: asReference)
    }
}
