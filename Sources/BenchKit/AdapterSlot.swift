import Checkpoint
import Models
import NN
import Pretrained
import TensorCore

/// The U-Net and resampler into which the bench loads each dpo-train adapter in turn. An adapter trained with
/// `adapter_trainable = "image+attention"` also replaces every self-attention weight, so before each load those are put
/// back as pretrain-adapter left them: a model never inherits the attention of the one loaded before it.
final class AdapterSlot {
    let unet: UNet2DConditionModel
    let resampler: Resampler
    /// Every `...attn1.*` parameter of `unet` with its value when the slot was made (pretrain-adapter's).
    private let pretrainedAttention: [(Parameter, Tensor)]

    init(unet: UNet2DConditionModel, resampler: Resampler) {
        self.unet = unet
        self.resampler = resampler
        pretrainedAttention = AdapterTrainable.imageAndAttention.extraParameters(of: unet).map { ($0.1, $0.1.value) }
    }

    /// Loads `file` (an image-branch adapter, or one with every self-attention weight too, told apart by its keys),
    /// strictly, over the pretrained self-attention; `path` names the file in errors.
    func load(_ file: SafeTensorsFile, path: String) throws {
        for (p, v) in pretrainedAttention { p.value = v }
        try PretrainedModels.applyAdapter(file, path: path, unet: unet, resampler: resampler, trainable: AdapterTrainable(keysOf: file))
    }
}
