import ArgumentParser
import Foundation
import Imaging
import Models
import PatchQuality
import TensorCore

/// `vit-probe auroc`: patch-quality AUROC against injected defects (the patch-quality stage's
/// `DefectBenchmark`) at every block of a ViT checkpoint, plus two feature-free baselines on the
/// same samples: raw patch pixels (each cell's 3 x p x p values) and the per-cell mean colour.
/// It says which block (if any) localises defects, and how far learned features are from pixels:
/// e.g. `vit-probe auroc --checkpoint data/checkpoints/vit.safetensors --samples 64`.
struct AurocProbe: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "auroc",
                                                    abstract: "Defect AUROC per ViT block and for pixel baselines.")
    @Option(help: "ViT safetensors (its JSON record beside it gives the heads)") var checkpoint: String
    @Option(help: "defect samples") var samples = 64
    @Option(help: "defect sample seed (the stage's auroc-seed)") var seed: UInt64 = 11
    @Option(help: "quality normalisation: cosine | min-max") var normalization = "cosine"
    @Option(help: "worker threads") var threads = 2
    @Option(help: "also write reference | generated | defect mask strips (8x upscaled PNGs) of the first samples here") var dump: String?
    @Flag(help: "also report AUROC per defect kind") var perDefect = false

    func run() throws {
        Threads.configure(count: threads)
        let url = URL(fileURLWithPath: checkpoint)
        let record = try? Data(contentsOf: url.deletingPathExtension().appendingPathExtension("json"))
        let vit = try ViTLoading.load(checkpoint: try Data(contentsOf: url), path: checkpoint, record: record, defaultHeads: 0)
        guard let norm = QualityNormalization(rawValue: normalization) else {
            throw ValidationError("--normalization \(normalization): use cosine or min-max")
        }
        let s = vit.config.imageSize, p = vit.config.patchSize
        let set = try DefectBenchmark.samples(count: samples, seed: seed, size: s)
        func line(_ name: String, _ r: DefectBenchmark.Result) {
            print("{\"features\":\"\(name)\",\"auroc\":\(r.auroc.map { String(format: "%.4f", $0) } ?? "null"),"
                  + "\"positives\":\(r.positives),\"negatives\":\(r.negatives)}")
        }
        for block in 1...vit.config.depth {
            line("block\(block)", DefectBenchmark.evaluate(vit, samples: set, block: block, normalization: norm))
        }
        if perDefect {
            let kinds = Set(set.map { String($0.defect.prefix(while: { $0 != "(" })) }).sorted()
            for kind in kinds {
                let sub = set.filter { $0.defect.hasPrefix(kind) }
                line("block1/\(kind) (\(sub.count))", DefectBenchmark.evaluate(vit, samples: sub, block: 1, normalization: norm))
                let f = { (img: Image) -> PatchFeatures in Self.pixelFeatures(img, size: s, patch: p, meanOnly: false) }
                line("pixels/\(kind)", DefectBenchmark.evaluate(features: sub.map { (f($0.generated), f($0.reference)) },
                                                                  samples: sub, patch: p, size: s, normalization: norm))
            }
        }
        if let dump {
            try FileManager.default.createDirectory(atPath: dump, withIntermediateDirectories: true)
            for (j, x) in set.prefix(12).enumerated() {
                var strip = Image(width: 3 * s, height: s, fill: [0, 0, 0])
                let ref = x.reference.converted(toChannels: 3), gen = x.generated.converted(toChannels: 3)
                for y in 0..<s {
                    for xx in 0..<s {
                        strip.setPixel(x: xx, y: y, ref.pixel(x: xx, y: y))
                        strip.setPixel(x: s + xx, y: y, gen.pixel(x: xx, y: y))
                        let m: UInt8 = x.defectMask[y * s + xx] > 0 ? 255 : 0
                        strip.setPixel(x: 2 * s + xx, y: y, [m, m, m])
                    }
                }
                try PNG.write(strip.resizedNearest(width: 24 * s, height: 8 * s), to: "\(dump)/\(j)-\(x.defect).png")
            }
        }
        for (name, pool) in [("pixels", false), ("mean-colour", true)] {
            let feats = { (img: Image) -> PatchFeatures in Self.pixelFeatures(img, size: s, patch: p, meanOnly: pool) }
            line(name, DefectBenchmark.evaluate(features: set.map { (feats($0.generated), feats($0.reference)) },
                                                samples: set, patch: p, size: s, normalization: norm))
        }
    }

    /// Cell features from pixels in [-1, 1]: the cell's values (3 p^2) or its mean colour (3).
    static func pixelFeatures(_ image: Image, size: Int, patch: Int, meanOnly: Bool) -> PatchFeatures {
        let x = PatchFeatureExtractor.tensor([image], size: size).scalars, side = size / patch
        var raw: [Float] = []
        for r in 0..<side {
            for c in 0..<side {
                for ch in 0..<3 {
                    var cell: [Float] = []
                    for y in 0..<patch { for xx in 0..<patch { cell.append(x[ch * size * size + (r * patch + y) * size + c * patch + xx]) } }
                    raw += meanOnly ? [cell.reduce(0, +) / Float(cell.count)] : cell
                }
            }
        }
        return PatchFeatures(rows: side, columns: side, dim: raw.count / (side * side), raw: raw)
    }
}
