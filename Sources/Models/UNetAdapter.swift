import Autograd
import NN

/// The IP-Adapter trainable set: "only the parameters for projecting image features are trainable".
///
/// `adapterParameters(unet:resampler:)` freezes every U-Net parameter except the `to_k_ip`/`to_v_ip`
/// of each decoupled cross-attention, unfreezes the whole resampler, and returns the trainable set
/// with unique keys: `image_proj.<resampler key>` (IP-Adapter's name for the resampler) followed by
/// the U-Net's own keys (`down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k_ip.weight`, ...).
/// The text encoder and image encoder are separate modules and are not touched here.
public func adapterParameters(unet: UNet2DConditionModel, resampler: Resampler) -> [(String, Parameter)] {
    unet.setRequiresGrad(false)
    let ip = unet.imageProjectionParameters()
    for (_, p) in ip { p.requiresGrad = true }
    resampler.setRequiresGrad(true)
    return resampler.namedParameters().map { ("image_proj.\($0.0)", $0.1) } + ip
}
