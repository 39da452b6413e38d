import Checkpoint
import NN

/// Which of the personalized generator's weights preference training changes (`[dpo-train] adapter_trainable`).
///
/// PatchDPO trains "only the parameters for projecting image features". In IP-Adapter that is the image branch
/// (`to_k_ip`/`to_v_ip` after the resampler); in this generator the clean reference also reaches the U-Net through reference
/// attention (docs/REFERENCE_ATTENTION.md), where every self-attention (`...attn1.*`) projects the reference's
/// tokens into its keys and values: the path that carries most of the subject (identity 0.394 without it, 0.558 with it).
public enum AdapterTrainable: String, Sendable, CaseIterable {
    /// Every `to_k_ip`/`to_v_ip` (and the resampler with `train_resampler`): IP-Adapter's image branch only.
    case image
    /// The image branch and every self-attention (`...attn1.*`, 6% of the shipped U-Net's weights), through which
    /// reference attention reads the reference.
    case imageAndAttention = "image+attention"

    /// The choice an adapter file was trained with, read from its keys: `.imageAndAttention` when it holds any
    /// `...attn1.*` weight (a loader's strict check then asks for every one of them).
    public init(keysOf file: SafeTensorsFile) {
        self = file.tensors.keys.contains { $0.contains(".attn1.") } ? .imageAndAttention : .image
    }

    /// Whether the U-Net weight `key` trains beyond the image branch.
    public func includesUNetWeight(_ key: String) -> Bool { self == .imageAndAttention && key.contains(".attn1.") }

    /// The U-Net weights this choice trains beyond the image branch, with their keys, in the U-Net's order.
    public func extraParameters(of unet: UNet2DConditionModel) -> [(String, Parameter)] {
        unet.namedParameters().filter { includesUNetWeight($0.0) }
    }
}
