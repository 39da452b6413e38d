import Autograd
import Checkpoint
import Models
import NN
import TensorCore

/// The generator being preference-trained: a frozen U-Net whose image branch (every `to_k_ip`/`to_v_ip`,
/// and the resampler when `trainResampler`) is trainable, plus a frozen copy of that adapter's weights
/// that serves as the reference model eps_ref (METHODS.md 5).
///
/// The reference model is the SAME U-Net with the adapter switched to the frozen copy's weights for the
/// duration of a no-grad forward (`predictReference`), then switched back. The U-Net, text encoder and
/// image encoder never change, so this equals a second full model without its memory.
/// Adapter keys (IP-Adapter naming): `image_proj.<resampler key>` then the U-Net's `...attn2.to_k_ip.weight`,
/// `...attn2.to_v_ip.weight`.
public final class AdapterPolicy {
    public let unet: UNet2DConditionModel
    public let resampler: Resampler
    public let ipScale: Float
    /// Every adapter parameter with its key (trainable or not), in a fixed order.
    public let adapter: [(String, Parameter)]
    /// The reference model's adapter weights, by key (a snapshot taken at init).
    public private(set) var frozenAdapter: [String: Tensor]

    /// Freezes everything but the adapter (`Models.adapterParameters`), then the resampler too unless
    /// `trainResampler`; snapshots the current adapter as the reference model.
    public init(unet: UNet2DConditionModel, resampler: Resampler, trainResampler: Bool, ipScale: Float = 1) {
        self.unet = unet
        self.resampler = resampler
        self.ipScale = ipScale
        adapter = adapterParameters(unet: unet, resampler: resampler)
        if !trainResampler { resampler.setRequiresGrad(false) }
        frozenAdapter = Dictionary(uniqueKeysWithValues: adapter.map { ($0.0, $0.1.value) })
    }

    /// The parameters the optimizer updates, with their keys (the optimizer state uses the same keys).
    public var trainable: [(String, Parameter)] { adapter.filter { $0.1.requiresGrad } }

    /// eps_theta(x_t, t, text, resampler(imageFeatures)) with the graph recorded.
    /// Shapes: x `[R, C, H, W]`, timesteps `[R]`, text `[R, Lt, D]`, imageFeatures `[R, N, E]`.
    /// `coupled`: reference attention (`ReferenceCoupling`): each row x_i is denoised in the set [reference_i, x_i]
    /// (references `[R, C, H, W]` already diffused to the row's timestep, both members with the row's conditions)
    /// under `mask`, and only the x rows are returned.
    public func predict(_ x: Tensor, timesteps: [Int], text: Tensor, imageFeatures: Tensor,
                        coupled: (references: Tensor, mask: ReferenceSetMask)? = nil) -> Variable {
        guard let coupled else {
            let tokens = resampler.forward(Variable(imageFeatures))
            return unet.forward(Variable(x), timesteps: timesteps, text: Variable(text), imageTokens: tokens, ipScale: ipScale)
        }
        let twice = { (a: Tensor) in ReferenceSetMask.pairs(references: a, images: a) }
        let tokens = resampler.forward(Variable(twice(imageFeatures)))
        let y = unet.forward(Variable(ReferenceSetMask.pairs(references: coupled.references, images: x)),
                             timesteps: timesteps.flatMap { [$0, $0] }, text: Variable(twice(text)), imageTokens: tokens,
                             ipScale: ipScale, setSize: 2, setMask: coupled.mask)
        return ReferenceSetMask.imageRows(y)
    }

    /// eps_ref: the same forward with the adapter switched to the frozen weights, without a graph.
    public func predictReference(_ x: Tensor, timesteps: [Int], text: Tensor, imageFeatures: Tensor,
                                 coupled: (references: Tensor, mask: ReferenceSetMask)? = nil) -> Tensor {
        let current = adapter.map { $0.1.value }
        for (key, p) in adapter { p.value = frozenAdapter[key]! }
        defer { for ((_, p), v) in zip(adapter, current) { p.value = v } }
        return withNoGrad { predict(x, timesteps: timesteps, text: text, imageFeatures: imageFeatures, coupled: coupled).value }
    }

    /// The adapter as a safetensors file (`image_proj.*` + every `to_k_ip`/`to_v_ip`).
    public func adapterStateDict() -> SafeTensorsFile {
        var file = SafeTensorsFile()
        for (key, p) in adapter { file.tensors[key] = TensorData(shape: p.shape, values: p.value.scalars) }
        return file
    }

    /// The reference model's adapter as a safetensors file (same keys).
    public func frozenStateDict() -> SafeTensorsFile {
        var file = SafeTensorsFile()
        for (key, p) in adapter { file.tensors[key] = TensorData(shape: p.shape, values: frozenAdapter[key]!.scalars) }
        return file
    }

    /// Loads adapter weights (all keys, strictly); with `asReference` the frozen copy instead.
    public func loadAdapter(_ file: SafeTensorsFile, path: String, asReference: Bool = false) throws(CheckpointError) {
        let shapes = Dictionary(uniqueKeysWithValues: adapter.map { ($0.0, $0.1.shape) })
        try file.checkStrict(expected: shapes, path: path)
        for (key, p) in adapter {
            let t = file.tensors[key]!
            let v = Tensor(shape: t.shape, scalars: t.values)
            if asReference { frozenAdapter[key] = v } else { p.value = v }
        }
    }
}
