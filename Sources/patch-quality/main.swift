import ArgumentParser
import Foundation
import Manifest
import PatchQuality
import StageKit

/// `patch-quality`: q_g / q_r per (reference, generated) pair (PatchDPO 4.2.1, 4.3, METHODS 2),
/// heatmaps for a sample, and the AUROC of per-patch quality against injected world defects.
struct PatchQualityStage: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "patch-quality",
        abstract: "Patch-quality maps q_g, q_r for every PatchDPO pair, heatmaps, and AUROC against known defects.",
        discussion: definition.help("Reads score-and-pair (patchdpo-pairs.json), generate-pool (the images), pretrain-vit "
            + "(vit.safetensors), ssl-finetune-vit (vit-ssl.safetensors) and, when an estimator is `segmenter`, pretrain-segmenter "
            + "(segmenter.safetensors). One item per pair (q/<vit>/<key>.safetensors per ViT "
            + "in `vits`, kind quality-map; with `aligned`, also the aligned map q_aligned) plus item `_auroc` (auroc.json). A pair whose image is not a PNG fails alone.", shardable: true),
        version: BuildSources.version)

    static let definition = StageDefinition(
        name: "patch-quality",
        schema: ConfigSchema(section: "patch-quality", keys: [
            ConfigKey("vits", .array(.string), default: .array([.string("finetuned"), .string("original")]),
                      doc: "ViTs that make maps, one set each (q/<vit>/<key>.safetensors): finetuned | original. "
                          + "Replaces the old single `vit` key (an old config naming `vit` fails as an unknown key)",
                      check: { v in
                          guard case let .array(items) = v, !items.isEmpty else { return "must list at least one of finetuned, original" }
                          let names = items.compactMap(\.stringValue)
                          if names.count != items.count || !names.allSatisfy(QualityWork.vitNames.contains) {
                              return "entries must be finetuned or original"
                          }
                          return Set(names).count == names.count ? nil : "lists a ViT twice"
                      }),
            .integer("block", default: 7, doc: "ViT block of the features (paper: 7; capped at the ViT's depth)", in: 1...64),
            ConfigKey("normalization", .string, default: .string("cosine"), doc: "cosine ((cos+1)/2) | min-max",
                      check: { v in ["cosine", "min-max"].contains(v.stringValue ?? "") ? nil : "must be cosine or min-max" }),
            .integer("loss_resolution", default: 0, doc: "side of the upsampled maps (0: the generated image's size)", in: 0...4096),
            ConfigKey("fg_reference", .string, default: .string("border"), doc: "foreground estimator of references: border | none | segmenter",
                      check: ConfigKey.oneOf(ForegroundEstimator.allCases.map(\.rawValue))),
            ConfigKey("fg_generated", .string, default: .string("none"),
                      doc: "foreground estimator of generated images: border | none | segmenter (pretrain-segmenter's model, "
                          + "an input only then)",
                      check: ConfigKey.oneOf(ForegroundEstimator.allCases.map(\.rawValue))),
            ConfigKey("border_threshold", .float, default: .float(40), doc: "RGB distance (0..255) from the border colour that counts as foreground"),
            ConfigKey("fg_cell_threshold", .float, default: .float(0.25), doc: "a cell is foreground when this share of its pixels is"),
            .integer("heatmaps", default: 8, doc: "pairs drawn as heatmap PNGs (the first in key order)", in: 0...100_000),
            .integer("auroc_samples", default: 24, doc: "world renders with injected defects for the AUROC", in: 1...100_000),
            .integer("auroc_seed", default: 11, doc: "seed of the defect renders", in: 0...Int64(UInt32.max)),
            ConfigKey("defect_threshold", .float, default: .float(0.1), doc: "a cell is defective when this share of its pixels changed"),
            ConfigKey("aligned", .bool, default: .bool(false),
                      doc: "also write the aligned quality q_aligned (beyond the paper): each generated patch against the expected "
                          + "image's patch at its place (the reference object warped onto the generated image by the transform "
                          + "estimated from the foreground masks), for dpo-train's patchdpo-aligned; auroc.json gains <vit>-aligned rows"),
            .integer("aligned_block", default: 1, doc: "ViT block of the aligned comparison (capped at the ViT's depth)", in: 1...64),
            ConfigKey("aligned_terms", .string, default: .string("features"),
                      doc: "what the aligned quality multiplies: features (q_a alone) | features+pixels+contrast (q_a x the cell's colour "
                          + "agreement x the square root of the contrast it keeps, SSIM-like: AUROC 0.890 against 0.848 on held-out "
                          + "defects, docs/PATCHQUALITY.md)",
                      optIn: true, check: ConfigKey.oneOf(AlignedQuality.Terms.allCases.map(\.rawValue))),
            .integer("heads", default: 0, doc: "ViT heads when the pretrain record does not say (0: 3, MODELS.md)", in: 0...64),
        ]),
        sourceFingerprint: BuildSources.fingerprint,
        upstream: ["score-and-pair", "ssl-finetune-vit", "pretrain-vit", "generate-pool"])

    @OptionGroup var common: CommonOptions

    func run() throws {
        try StageMain.run(Self.definition, options: common) { r in
            // pretrain-segmenter is an input only when an estimator is `segmenter`.
            let inputs = try r.allUpstreamOutputs() + (QualityWork.needsSegmenter(r.config) ? try r.upstreamOutputs("pretrain-segmenter") : [])
            let work = try QualityWork(runner: r, inputs: inputs)
            try r.runItems(keys: work.pairs.map(\.key) + [QualityWork.aurocKey], inputs: inputs) { item in
                item.key == QualityWork.aurocKey ? try work.auroc(item) : try work.pair(item)
            }
        }
    }
}

extension TOMLValue {
    var stringValue: String? { if case let .string(s) = self { return s } else { return nil } }
}

PatchQualityStage.main()
