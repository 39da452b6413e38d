import Autograd
import Models
import TensorCore

/// `ViT.forward` stopped after the deepest tapped block: the patch features of block L need blocks
/// 1...L only, so the SSL loss at block 7 of a depth-12 ViT skips 5 blocks and the final norm
/// (about 40% of the work, in each of its three passes). Same operations in the same order as
/// `ViT.forward` (a test checks the taps are bit-identical), built from the model's public parts.
public enum ViTTaps {
    /// Block index (1-based) -> tokens after that block, [B, 1 + N, D], for every block in `taps`.
    public static func forward(_ vit: ViT, _ images: Variable, taps: [Int]) -> [Int: Variable] {
        let c = vit.config, s = c.imageSize
        precondition(images.shape.count == 4 && images.shape[1] == c.inChannels && images.shape[2] == s && images.shape[3] == s,
                     "ViTTaps: images \(images.shape), want [B, \(c.inChannels), \(s), \(s)]")
        precondition(!taps.isEmpty && taps.allSatisfy { (1...c.depth).contains($0) }, "ViTTaps: taps \(taps) outside 1...\(c.depth)")
        let b = images.shape[0]
        let patches = vit.patchEmbed(images)                                      // [B, N, D]
        let cls = vit.clsToken + Variable(Tensor(zeros: [b, 1, c.width]))          // [B, 1, D]
        var x = concat([cls, patches], axis: 1) + vit.posEmbed                    // [B, 1 + N, D]
        var kept: [Int: Variable] = [:]
        for i in 0..<taps.max()! {
            x = vit.blocks[i](x)
            if taps.contains(i + 1) { kept[i + 1] = x }
        }
        return kept
    }

    /// The N patch tokens after `block` (class token dropped), [B, N, D].
    public static func patchTokens(_ taps: [Int: Variable], after block: Int) -> Variable {
        guard let t = taps[block] else { preconditionFailure("ViTTaps: block \(block) was not tapped (taps \(taps.keys.sorted()))") }
        return t.slice(axis: 1, start: 1, end: t.shape[1])
    }
}
