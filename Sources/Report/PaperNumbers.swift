/// The PatchDPO paper's own numbers (shared paper 000), for the reproduction's tables to stand beside:
/// Table 1 (HPatches patch matching of ViT-Base patch features by layer, before and after the
/// self-supervised training) and Table 4 (the DreamBench ablation on IP-Adapter-Plus, SD 1.5).
public enum PaperNumbers {
    /// One Table 4 combination and the model of ours that plays its part (`loss`, `vit` as in `ModelSummary`;
    /// loss nil = the original model).
    public struct Combination: Sendable, Equatable {
        public var label: String
        public var loss: String?
        public var vit: String?
        public var dino: Double
        public var clipI: Double
        public var clipT: Double
    }

    /// Table 4 without combination (1), L_dm on SA-1B natural images (0.658, 0.818, 0.287), which has no
    /// counterpart in this world.
    public static let table4: [Combination] = [
        Combination(label: "original model", loss: nil, vit: nil, dino: 0.692, clipI: 0.826, clipT: 0.281),
        Combination(label: "(2) L_dm on the constructed data", loss: "dm", vit: nil, dino: 0.708, clipI: 0.830, clipT: 0.292),
        Combination(label: "(3) Diffusion-DPO", loss: "diffusion-dpo", vit: nil, dino: 0.676, clipI: 0.819, clipT: 0.284),
        Combination(label: "(4) PatchDPO, original ViT's last layer", loss: "patchdpo", vit: "original", dino: 0.719, clipI: 0.835, clipT: 0.291),
        Combination(label: "(5) PatchDPO, trained ViT's layer 7", loss: "patchdpo", vit: "finetuned", dino: 0.727, clipI: 0.838, clipT: 0.292),
    ]

    /// Table 1: the layers of ViT-Base it reports and the patch-matching accuracy (%) before and after training.
    public static let table1Layers = [1, 4, 7, 10, 12]
    public static let table1Before = [70.4, 76.4, 74.8, 68.6, 68.4]
    public static let table1After = [72.7, 82.7, 83.7, 77.4, 75.8]
}
