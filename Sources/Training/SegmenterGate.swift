import Foundation
import Generation
import Imaging
import Models
import PatchQuality
import Random
import TensorCore
import World

/// The segmenter's gate (issue 16): `images` world renders of TEST subjects (nothing trains on them; 8
/// per category, 10% clean backgrounds, the world's random poses), their ground-truth masks binarised at
/// coverage > 0.5, against the masks `patch-quality` would use (`ForegroundEstimator.segmenterCoverage`:
/// sigmoid > 0.5). Metrics:
/// - `iou`: object IoU pooled over every pixel of the set (sum |pred and truth| / sum |pred or truth|);
///   `iou_textured`, `iou_clean` by background; `iou_image_mean`: the mean of per-image IoUs;
/// - `cell_accuracy`: share of `patch`-pixel cells (the ViT's patch-quality grid) whose foreground label
///   (`PatchMask.cells`, share of foreground pixels > `cellThreshold`) matches the truth's;
/// - `*_augmented`: the same on the same renders after `GeneratedLookAugmentation` (the generator's look);
/// - `border_iou`, `border_cell_accuracy`: the `border` estimator (threshold 40) on the clean renders,
///   the baseline the segmenter replaces.
public enum SegmenterGate {
    /// Targets (metric, minimum).
    public static let targets: [(String, Double)] = [("iou", 0.9), ("iou_textured", 0.9)]

    public struct Result {
        public var metrics: [String: Double] = [:]
        /// Rows of (render, truth, prediction, augmented render, its prediction), for a sample sheet.
        public var rows: [[Image]] = []
    }

    /// Pixel and cell tallies of one estimator.
    struct Tally {
        var intersection = 0.0, union = 0.0, cellsRight = 0, cells = 0, imageIoU = 0.0, images = 0
        var byBackground: [Bool: (Double, Double)] = [:]

        mutating func add(predicted: [Float], truth: [Float], side: Int, patch: Int, cellThreshold: Float, textured: Bool) {
            var i = 0.0, u = 0.0
            for (p, t) in zip(predicted, truth) {
                let a = p > 0.5, b = t > 0.5
                if a && b { i += 1 }
                if a || b { u += 1 }
            }
            intersection += i; union += u
            imageIoU += u > 0 ? i / u : 1
            images += 1
            let bg = byBackground[textured] ?? (0, 0)
            byBackground[textured] = (bg.0 + i, bg.1 + u)
            let pc = PatchMask.cells(predicted, width: side, height: side, patch: patch, threshold: cellThreshold)
            let tc = PatchMask.cells(truth, width: side, height: side, patch: patch, threshold: cellThreshold)
            cellsRight += zip(pc, tc).filter { $0 == $1 }.count
            cells += tc.count
        }

        var iou: Double { union > 0 ? intersection / union : 1 }
        func iou(textured: Bool) -> Double? { byBackground[textured].map { $0.1 > 0 ? $0.0 / $0.1 : 1 } }
        var cellAccuracy: Double { Double(cellsRight) / Double(max(cells, 1)) }
    }

    public static func measure(_ segmenter: Segmenter, resolution: Int, seed: UInt64, images: Int = 256, patch: Int = 4,
                               cellThreshold: Float = 0.25, augmentation: GeneratedLookAugmentation = GeneratedLookAugmentation(strength: 1, fraction: 1),
                               sheetRows: Int = 0) throws -> Result {
        precondition(images > 0 && resolution % patch == 0, "SegmenterGate: \(images) images, resolution \(resolution), patch \(patch)")
        segmenter.train(false)
        let config = WorldDataConfig(resolution: resolution, split: .test, subjectsPerCategory: 8, cleanFraction: 0.1)
        var seg = Tally(), aug = Tally(), border = Tally()
        var res = Result()
        let chunk = 32
        for (step, start) in stride(from: 0, to: images, by: chunk).enumerated() {
            let b = try WorldData.batch(seed: seed, step: step, size: min(chunk, images - start), config: config)
            let n = resolution * resolution
            let augmented = augmentation.apply(b.images, key: RNGKey(seed: seed).fold(in: "gate-augment").fold(in: UInt64(step)))
            let pred = ForegroundEstimator.segmenterCoverage(segmenter, images: b.images)
            let predAug = ForegroundEstimator.segmenterCoverage(segmenter, images: augmented)
            let renders = Sampler.images(b.images), augImages = Sampler.images(augmented)
            for i in 0..<b.labels.count {
                let truth = Array(b.coverage[(i * n)..<((i + 1) * n)])
                let textured = b.backgrounds[i] != .clean
                seg.add(predicted: pred[i], truth: truth, side: resolution, patch: patch, cellThreshold: cellThreshold, textured: textured)
                aug.add(predicted: predAug[i], truth: truth, side: resolution, patch: patch, cellThreshold: cellThreshold, textured: textured)
                let byBorder = ForegroundEstimator.border.coverage(renders[i])
                border.add(predicted: byBorder, truth: truth, side: resolution, patch: patch, cellThreshold: cellThreshold, textured: textured)
                if res.rows.count < sheetRows {
                    res.rows.append([renders[i], mask(truth, side: resolution), mask(pred[i], side: resolution),
                                     augImages[i], mask(predAug[i], side: resolution), mask(byBorder, side: resolution)])
                }
            }
        }
        res.metrics["iou"] = seg.iou
        res.metrics["iou_textured"] = seg.iou(textured: true)
        res.metrics["iou_clean"] = seg.iou(textured: false)
        res.metrics["iou_image_mean"] = seg.imageIoU / Double(max(seg.images, 1))
        res.metrics["cell_accuracy"] = seg.cellAccuracy
        res.metrics["iou_augmented"] = aug.iou
        res.metrics["cell_accuracy_augmented"] = aug.cellAccuracy
        res.metrics["border_iou"] = border.iou
        res.metrics["border_iou_textured"] = border.iou(textured: true)
        res.metrics["border_cell_accuracy"] = border.cellAccuracy
        return res
    }

    /// A mask in [0, 1] as a gray RGB image (white = object).
    public static func mask(_ m: [Float], side: Int) -> Image {
        Image(unchecked: side, side, 3, m.flatMap { v -> [UInt8] in
            let g = UInt8(max(0, min(255, (v * 255).rounded())))
            return [g, g, g]
        })
    }
}
