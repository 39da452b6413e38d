import ArgumentParser
import Foundation
import Imaging
import Models
import PatchQuality
import StageKit
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
    @Option(help: "defect sample seed (the stage's auroc_seed)") var seed: UInt64 = 11
    @Option(help: "quality normalisation: cosine | min-max") var normalization = "cosine"
    @Option(help: "worker threads") var threads = 2
    @Option(help: "also write reference | generated | defect mask (| expected, with --aligned) strips (8x upscaled PNGs) of the first samples here") var dump: String?
    @Flag(help: "also report AUROC per defect kind") var perDefect = false
    @Flag(help: "also score min(q_g, q_a), the aligned quality (reference warped onto the generated image)") var aligned = false
    @Option(help: "a cell is foreground when more than this share of its pixels is object (the stage's 0.5)")
    var foregroundThreshold: Float = 0.5
    @Option(help: "a cell is defective when more than this share of its pixels is defect (the stage's defect_threshold)")
    var defectThreshold: Float = 0.1

    func run() throws { try StageMain.command("vit-probe auroc", work) }

    func work() throws {
        Threads.configure(count: threads)
        let vit = try AurocProbe.loadViT(checkpoint)
        guard let norm = QualityNormalization(rawValue: normalization) else {
            throw ValidationError("--normalization \(normalization): use cosine or min-max")
        }
        let s = vit.config.imageSize, p = vit.config.patchSize
        let set = try DefectBenchmark.samples(count: samples, seed: seed, size: s)
        func line(_ name: String, _ r: DefectBenchmark.Result) {
            print("{\"features\":\"\(name)\",\"auroc\":\(r.auroc.map { String(format: "%.4f", $0) } ?? "null"),"
                  + "\"positives\":\(r.positives),\"negatives\":\(r.negatives)}")
        }
        let expected = aligned ? DefectBenchmark.expectedImages(set) : []       // once: the alignment does not depend on the block
        for block in 1...vit.config.depth {
            line("block\(block)", DefectBenchmark.evaluate(vit, samples: set, block: block, normalization: norm, foregroundThreshold: foregroundThreshold, defectThreshold: defectThreshold))
            if aligned {
                let r = DefectBenchmark.evaluateByKind(vit, samples: set, block: block, normalization: norm, expectedImages: expected,
                                                       foregroundThreshold: foregroundThreshold, defectThreshold: defectThreshold)
                line("block\(block)/aligned", r.all)
                if perDefect { for kind in r.byKind.keys.sorted() { line("block\(block)/aligned/\(kind)", r.byKind[kind]!) } }
            }
        }
        let pixels = set.map { (Self.pixelFeatures($0.generated, size: s, patch: p, meanOnly: false),
                                Self.pixelFeatures($0.reference, size: s, patch: p, meanOnly: false)) }
        let pixelResult = DefectBenchmark.evaluateByKind(features: pixels, samples: set, patch: p, size: s, normalization: norm, foregroundThreshold: foregroundThreshold, defectThreshold: defectThreshold)
        if aligned {
            let e = expected.map { Self.pixelFeatures($0, size: s, patch: p, meanOnly: false) }
            let r = DefectBenchmark.evaluateByKind(features: pixels, samples: set, patch: p, size: s, normalization: norm, expected: e,
                                                   foregroundThreshold: foregroundThreshold, defectThreshold: defectThreshold)
            line("pixels/aligned", r.all)
            if perDefect { for kind in r.byKind.keys.sorted() { line("pixels/aligned/\(kind)", r.byKind[kind]!) } }
        }
        if perDefect {
            let blockResult = DefectBenchmark.evaluateByKind(vit, samples: set, block: 1, normalization: norm, foregroundThreshold: foregroundThreshold, defectThreshold: defectThreshold)
            for kind in blockResult.byKind.keys.sorted() {
                line("block1/\(kind) (\(set.filter { $0.kind == kind }.count))", blockResult.byKind[kind]!)
                line("pixels/\(kind)", pixelResult.byKind[kind]!)
            }
        }
        if let dump {
            try FileManager.default.createDirectory(atPath: dump, withIntermediateDirectories: true)
            for (j, x) in set.prefix(12).enumerated() {
                let parts = [x.reference, x.generated, try Image(width: s, height: s, channels: 1, pixels: x.defectMask.map { $0 > 0 ? 255 : 0 })]
                    + (aligned ? [expected[j]] : [])
                var strip = Image(width: parts.count * s, height: s, fill: [0, 0, 0])
                for (i, part) in parts.enumerated() { strip.paste(part.converted(toChannels: 3), x: i * s, y: 0) }
                try PNG.write(strip.resizedNearest(width: 8 * parts.count * s, height: 8 * s), to: "\(dump)/\(j)-\(x.defect).png")
            }
        }
        line("pixels", pixelResult.all)
        let means = set.map { (Self.pixelFeatures($0.generated, size: s, patch: p, meanOnly: true),
                               Self.pixelFeatures($0.reference, size: s, patch: p, meanOnly: true)) }
        line("mean-colour", DefectBenchmark.evaluateByKind(features: means, samples: set, patch: p, size: s, normalization: norm, foregroundThreshold: foregroundThreshold, defectThreshold: defectThreshold).all)
    }

    /// The ViT at `checkpoint` (safetensors), its heads from the JSON record beside it when there is one.
    static func loadViT(_ checkpoint: String) throws -> ViT {
        let url = URL(fileURLWithPath: checkpoint)
        let record = try? Data(contentsOf: url.deletingPathExtension().appendingPathExtension("json"))
        return try ViTLoading.load(checkpoint: try Data(contentsOf: url), path: checkpoint, record: record, defaultHeads: 0)
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
