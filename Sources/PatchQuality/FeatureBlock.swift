/// Which ViT block a patch-quality variant reads (METHODS 2; PatchDPO Table 4):
/// - `finetuned`: the configured block (the paper's 7, the best layer of its per-layer table), capped at
///   the ViT's depth;
/// - `original`: the LAST block. The paper's weak baseline is "the original vision model" read at its
///   final feature map (68.4% in Table 4), not the finetuned model's layer.
public enum FeatureBlock {
    public static func block(variant: String, configured: Int, depth: Int) -> Int {
        variant == "original" ? depth : min(configured, depth)
    }
}
