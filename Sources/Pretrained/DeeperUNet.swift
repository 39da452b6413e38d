import Checkpoint
import Models
import NN
import Random

/// A U-Net grown deeper (`layersPerBlock` L -> L' > L) from a trained one so that it computes exactly what the
/// trained one does until training moves the new blocks (issue 15: capacity without throwing away the hours that
/// trained the base and the adapter; Net2DeeperNet's identity initialisation in diffusers' layout).
///
/// The down path of each level appends L' - L resnets (and Transformer2D blocks where the level has attention).
/// Each new resnet starts with `conv2` zero, so its output is its input (`y = x + conv2(...)`, in = out there), and
/// each new transformer with `proj_out` zero. Every skip it pushes therefore equals the last old resnet's output.
///
/// The up path pops one skip per resnet, so its resnets shift: old resnet 0 stays 0 (it pops the last new down
/// resnet's skip, equal to the old one's), the L' - L new resnets take indices 1 ... L' - L (each pops a copy of that
/// skip and starts as "pass the previous output through": `conv2` zero and `conv_shortcut` = [I | 0] over
/// [previous, skip]), and old resnet j >= 1 becomes j + L' - L (it pops the skip it always did). Attention blocks
/// follow their resnets; the new ones start with `proj_out` zero.
extension PretrainedModels {
    /// Key prefixes of the blocks that growing `config` from `old` layers per block adds (the new blocks, which
    /// train at the full learning rate): down resnets and attentions `old ..< L'`, up ones `1 ... L' - old`.
    public static func deeperBlockPrefixes(from old: Int, _ config: UNetConfig) -> [String] {
        let layers = config.layersPerBlock, levels = config.blockOutChannels.count
        guard layers > old else { return [] }
        var prefixes: [String] = []
        for kind in ["resnets", "attentions"] {
            for i in 0..<levels {
                prefixes += (old..<layers).map { "down_blocks.\(i).\(kind).\($0)." }
                prefixes += (1...(layers - old)).map { "up_blocks.\(i).\(kind).\($0)." }
            }
        }
        return prefixes
    }

    /// `base` with `layers` resnets per down level (itself when it has as many; fewer is refused). The new blocks
    /// start from `key`'s initialisation, made the identity as the type's comment says.
    public static func withLayersPerBlock(_ base: UNet2DConditionModel, _ layers: Int, key: RNGKey) throws -> UNet2DConditionModel {
        let old = base.config.layersPerBlock
        guard layers != old else { return base }
        guard layers > old else {
            throw PretrainedError.badCheckpoint(path: "(growing the U-Net)",
                                                reason: "cannot shrink a U-Net from \(old) to \(layers) layers per block; give layers_per_block >= \(old)")
        }
        var config = base.config
        config.layersPerBlock = layers
        let grown = try UNet2DConditionModel(config: config, key: key)
        var file = SafeTensorsFile()
        for (k, p) in base.namedParameters() { file.tensors[k] = TensorData(shape: p.shape, values: p.value.scalars) }
        deepen(&file, from: old, into: grown)
        try grown.loadStrict(file, path: "(grown from the \(old)-layer U-Net)")
        return grown
    }

    /// Renames a file's U-Net keys from a U-Net with `old` layers per block to `grown`'s layout (the up path's shift)
    /// and adds `grown`'s new blocks, made the identity. A file already in `grown`'s layout (it holds one of the new
    /// down blocks' keys) is left as it is; other keys (an adapter's `image_proj.*`) pass through.
    public static func deepen(_ file: inout SafeTensorsFile, from old: Int, into grown: UNet2DConditionModel) {
        let config = grown.config, shift = config.layersPerBlock - old
        let prefixes = deeperBlockPrefixes(from: old, config)
        guard shift > 0, !file.tensors.keys.contains(where: { k in k.hasPrefix("down_blocks.") && prefixes.contains(where: k.hasPrefix) }) else { return }
        var out = SafeTensorsFile()
        for (k, t) in file.tensors {
            if let (path, index, rest) = blockIndex(k), path.hasPrefix("up_blocks."), index >= 1 {
                out.tensors["\(path)\(index + shift).\(rest)"] = t
            } else {
                out.tensors[k] = t
            }
        }
        for (k, p) in grown.namedParameters() where prefixes.contains(where: k.hasPrefix) {
            out.tensors[k] = identityValue(k, p.value.shape, p.value.scalars)
        }
        file = out
    }

    /// How many resnets per down level a file's U-Net has (the distinct `down_blocks.0.resnets.{j}`), nil when it
    /// holds no U-Net.
    public static func layersPerBlock(inFile file: SafeTensorsFile) -> Int? {
        let js = Set(file.tensors.keys.compactMap { k -> Int? in
            guard let (path, index, _) = blockIndex(k), path == "down_blocks.0.resnets." else { return nil }
            return index
        })
        return js.isEmpty ? nil : js.count
    }

    /// `(prefix through "resnets." or "attentions.", block index, the rest)` of a U-Net block key, e.g.
    /// "up_blocks.1.resnets.2.conv1.weight" -> ("up_blocks.1.resnets.", 2, "conv1.weight").
    static func blockIndex(_ key: String) -> (String, Int, String)? {
        let parts = key.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count >= 5, parts[0] == "down_blocks" || parts[0] == "up_blocks", parts[2] == "resnets" || parts[2] == "attentions",
              let index = Int(parts[3]) else { return nil }
        return ("\(parts[0]).\(parts[1]).\(parts[2]).", index, parts[4...].joined(separator: "."))
    }

    /// A new block's starting value: `conv2` and `proj_out` zero (the block adds nothing), an up resnet's
    /// `conv_shortcut` passing the previous output ([previous, skip] -> previous), everything else `initial`.
    static func identityValue(_ key: String, _ shape: [Int], _ initial: [Float]) -> TensorData {
        if key.contains(".conv2.") || key.contains(".proj_out.") {
            return TensorData(shape: shape, values: [Float](repeating: 0, count: initial.count))
        }
        if key.hasSuffix(".conv_shortcut.weight") {             // [out, in, 1, 1], in = out + skip
            let out = shape[0], cin = shape[1]
            var w = [Float](repeating: 0, count: initial.count)
            for o in 0..<out { w[o * cin + o] = 1 }
            return TensorData(shape: shape, values: w)
        }
        if key.hasSuffix(".conv_shortcut.bias") { return TensorData(shape: shape, values: [Float](repeating: 0, count: initial.count)) }
        return TensorData(shape: shape, values: initial)
    }
}
