import Checkpoint
import Foundation
import Models
import NN
import Random
import TensorCore

/// A U-Net grown by `UNetConfig.fullResolutionCrossAttention` (cross-attention Transformer2D blocks at level 0) from one without:
/// every weight of the smaller network kept and each new block's `proj_out` zero, so the grown network
/// computes exactly what the smaller one does (Transformer2D adds its output to its input) until training
/// moves the new blocks, as ControlNet's zero convolutions fade a new path in.
extension PretrainedModels {
    /// Key prefixes of the blocks `fullResolutionCrossAttention` adds: level 0's down block and the last up block.
    public static func fullResolutionCrossAttentionPrefixes(_ config: UNetConfig) -> [String] {
        ["down_blocks.0.attentions.", "up_blocks.\(config.blockOutChannels.count - 1).attentions."]
    }

    /// `base` grown to full-resolution cross-attention, with self-attention in the new blocks too when `selfAttention`
    /// (itself when it has those blocks already). The new blocks start from `key`'s initialisation with `proj_out`
    /// zero; their image branch is whatever the caller then sets. A base whose level-0 blocks are of the other kind
    /// cannot grow into these (its trained `proj_out` is not zero): that is an error.
    public static func withFullResolutionCrossAttention(_ base: UNet2DConditionModel, selfAttention: Bool = false,
                                                        key: RNGKey) throws -> UNet2DConditionModel {
        if base.config.fullResolutionCrossAttention == true {
            guard (base.config.fullResolutionSelfAttention == true) == selfAttention else {
                throw PretrainedError.badCheckpoint(path: "(the base U-Net)", reason: "its level-0 blocks are "
                    + (selfAttention ? "cross-attention only" : "with self-attention") + "; grow from a U-Net without level-0 blocks")
            }
            return base
        }
        var config = base.config
        config.fullResolutionCrossAttention = true
        config.fullResolutionSelfAttention = selfAttention ? true : nil
        let grown = try UNet2DConditionModel(config: config, key: key)
        var file = SafeTensorsFile()
        for (k, p) in base.namedParameters() { file.tensors[k] = TensorData(shape: p.shape, values: p.value.scalars) }
        let prefixes = fullResolutionCrossAttentionPrefixes(config)
        for (k, p) in grown.namedParameters() where prefixes.contains(where: k.hasPrefix) {
            let zero = k.contains(".proj_out.")
            file.tensors[k] = TensorData(shape: p.shape, values: zero ? [Float](repeating: 0, count: p.value.count) : p.value.scalars)
        }
        try grown.loadStrict(file, path: "(grown from the base U-Net)")
        return grown
    }

    /// Gives a file of a U-Net without level-0 blocks (none of the keys `fullResolutionCrossAttentionPrefixes` names)
    /// `unet`'s current values for them, so it loads into a grown U-Net as `withFullResolutionCrossAttention` made it;
    /// a file holding some of them is left as it is (a partial block fails strict loading).
    public static func completeFullResolutionCrossAttention(_ file: inout SafeTensorsFile, of unet: UNet2DConditionModel) {
        guard unet.config.fullResolutionCrossAttention == true else { return }
        let prefixes = fullResolutionCrossAttentionPrefixes(unet.config)
        guard !file.tensors.keys.contains(where: { k in prefixes.contains(where: k.hasPrefix) }) else { return }
        for (k, p) in unet.namedParameters() where prefixes.contains(where: k.hasPrefix) {
            file.tensors[k] = TensorData(shape: p.shape, values: p.value.scalars)
        }
    }

    /// The U-Net an adapter runs on: `base`, or `base` grown as the adapter's record says its tuned U-Net was
    /// (full-resolution cross-attention, more layers per block; every weight then comes from the adapter file).
    /// Any other difference between the adapter's U-Net config and the base's is a bad checkpoint naming the
    /// adapter file.
    public static func unet(_ base: UNet2DConditionModel, forAdapter record: PretrainRecord, path: URL) throws(PretrainedError) -> UNet2DConditionModel {
        guard let want = record.unet else { return base }
        let fullResolution = want.fullResolutionCrossAttention == true && base.config.fullResolutionCrossAttention != true
        let deeper = want.layersPerBlock > base.config.layersPerBlock
        guard fullResolution || deeper else { return base }
        var plain = want
        plain.fullResolutionCrossAttention = base.config.fullResolutionCrossAttention
        if fullResolution { plain.fullResolutionSelfAttention = base.config.fullResolutionSelfAttention }
        plain.layersPerBlock = base.config.layersPerBlock
        guard plain == base.config else {
            throw .badCheckpoint(path: path.path, reason: "the adapter's U-Net config differs from the base U-Net's by more than growth (full-resolution "
                                 + "cross-attention, more layers per block): channels or heads; train the adapter on this base U-Net")
        }
        guard record.adapterTunesUNet == true else {
            throw .badCheckpoint(path: path.path, reason: "the record grows the U-Net but does not carry it (`adapterTunesUNet`); rerun pretrain adapter "
                                 + "with unet_lr_scale > 0")
        }
        do {
            let wide = fullResolution
                ? try withFullResolutionCrossAttention(base, selfAttention: want.fullResolutionSelfAttention == true, key: RNGKey(seed: 0)) : base
            return deeper ? try withLayersPerBlock(wide, want.layersPerBlock, key: RNGKey(seed: 0)) : wide
        } catch {
            throw .badCheckpoint(path: path.path, reason: "\(error)")
        }
    }
}
