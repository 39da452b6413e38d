import Checkpoint
import Foundation
import Imaging
import Manifest
import Models
import PatchQuality
import StageKit
import TensorCore
import Upstream

/// Per-item work of the patch-quality stage: the pairs, the images they name (resolved against the
/// manifest and verified), the ViTs (loaded once, lazily), and the two item bodies.
final class QualityWork {
    static let aurocKey = "_auroc"
    /// The ViT variants that can make maps (`[patch-quality].vits`).
    static let vitNames = ["finetuned", "original"]
    let r: StageRunner
    let inputs: [ArtifactRecord]
    let pairs: [PairEntry]
    private let byPath: [String: ArtifactRecord]
    private var cache: [String: ViT] = [:]
    private var segmenterModel: Segmenter?

    init(runner: StageRunner, inputs: [ArtifactRecord]) throws {
        r = runner
        self.inputs = inputs
        Threads.configure(count: runner.run.threads)
        byPath = Dictionary(inputs.map { ($0.relativePath, $0) }, uniquingKeysWith: { a, _ in a })
        guard let file = inputs.first(where: { $0.kind == "patchdpo-pairs" || $0.relativePath.hasSuffix("/patchdpo-pairs.json") }) else {
            throw StageError.missingFile(path: runner.layout.artifacts("score-and-pair").appendingPathComponent("patchdpo-pairs.json").path,
                                         hint: "stage score-and-pair should have produced it (kind patchdpo-pairs); rerun score-and-pair")
        }
        pairs = try PairsFile.parse(try runner.readVerified(file, upstream: "score-and-pair"),
                                    path: runner.layout.root.appendingPathComponent(file.relativePath).path)
        if runner.config.bool("aligned") {
            for key in ["fg_generated", "fg_reference"] where runner.config.string(key) == ForegroundEstimator.none.rawValue {
                throw runner.config.invalid(key, "the aligned quality places the reference object by the foreground masks; "
                                            + "use segmenter (generated images) or border (references), or set aligned = false")
            }
        }
    }

    /// `which` = "original" (pretrain-vit) or "finetuned" (ssl-finetune-vit's vit-ssl.safetensors).
    func vit(_ which: String) throws -> ViT {
        if let v = cache[which] { return v }
        let original = try cache["original"] ?? UpstreamModels(runner: r).vit(defaultHeads: r.config.int("heads"))
        cache["original"] = original
        guard which == "finetuned" else { return original }
        guard let a = inputs.first(where: { $0.kind == "checkpoint/vit-ssl" || $0.relativePath.hasSuffix("/vit-ssl.safetensors") }) else {
            throw StageError.missingFile(path: r.layout.artifacts("ssl-finetune-vit").appendingPathComponent("vit-ssl.safetensors").path,
                                         hint: "stage ssl-finetune-vit should have produced it (kind checkpoint/vit-ssl); rerun ssl-finetune-vit")
        }
        let path = r.layout.root.appendingPathComponent(a.relativePath).path
        let v = try ViTLoading.load(try SafeTensors.parse(try r.readVerified(a, upstream: "ssl-finetune-vit"), path: path),
                                    path: path, heads: original.config.heads)
        cache[which] = v
        return v
    }

    /// Whether `fg_reference` or `fg_generated` is the `segmenter` estimator (pretrain-segmenter is then an input).
    static func needsSegmenter(_ c: ConfigSection) -> Bool {
        ["fg_reference", "fg_generated"].contains { ForegroundEstimator(rawValue: c.string($0))?.needsSegmenter ?? false }
    }

    /// pretrain-segmenter's model (loaded once), nil unless an estimator needs it.
    func segmenter() throws -> Segmenter? {
        guard Self.needsSegmenter(r.config) else { return nil }
        if let s = segmenterModel { return s }
        let s = try UpstreamModels(runner: r).segmenter()
        segmenterModel = s
        return s
    }

    /// The block variant `which` reads (`FeatureBlock`: the configured one for the finetuned ViT, capped at
    /// its depth with a warning; the last one for the original ViT).
    func block(_ vit: ViT, which: String) -> Int {
        let want = r.config.int("block")
        if which != "original" && want > vit.config.depth { r.log.warn("block \(want) capped at the ViT's depth \(vit.config.depth)") }
        return FeatureBlock.block(variant: which, configured: want, depth: vit.config.depth)
    }

    /// A pair's image: the recorded artifact at `path` (relative to the run directory, or a suffix of
    /// a generate-pool artifact's path, as dpo-train resolves them), verified, decoded (a non-PNG
    /// throws naming the file).
    func image(_ path: String) throws -> Image {
        let pool = inputs.lazy.filter { $0.relativePath.hasPrefix("artifacts/generate-pool/") }
        guard let a = byPath[path] ?? pool.first(where: { $0.relativePath.hasSuffix("/" + path) }) else {
            throw StageError.missingFile(path: r.layout.root.appendingPathComponent(path).path,
                                         hint: "named by patchdpo-pairs.json but not recorded by generate-pool; rerun generate-pool and score-and-pair")
        }
        let data = try r.readVerified(a, upstream: "generate-pool")
        return try PNG.decode([UInt8](data), name: r.layout.root.appendingPathComponent(a.relativePath).path)
    }

    /// One pair: a map file per ViT of `vits`, `q/<vit>/<key>.safetensors` (metadata `vit` says which),
    /// and for the first `heatmaps` pairs `heatmaps/<vit>/<key>.png`.
    func pair(_ item: ItemContext) throws -> [NewArtifact] {
        guard let entry = pairs.first(where: { $0.key == item.key }) else {
            throw PatchQualityError.badPairs(path: "patchdpo-pairs.json", detail: "no pair has key \(item.key) any more")
        }
        let reference = try image(entry.reference), generated = try image(entry.generated)
        var out: [NewArtifact] = []
        var views: [Int: PairView] = [:]          // by ViT image size: both ViTs usually share one
        for which in r.config.strings("vits") {
            let s = try vit(which).config.imageSize
            let view = try views[s] ?? PairView(reference: reference, generated: generated, size: s, work: self)
            views[s] = view
            out += try maps(item, entry: entry, reference: reference, generated: generated, view: view, which: which)
        }
        return out
    }

    /// A pair at a ViT's image size: both images in RGB, their foreground coverages and, with `aligned`, the expected
    /// image (the reference object warped onto the generated image) and the transform that placed it.
    struct PairView {
        let reference: Image, generated: Image
        let referenceCoverage: [Float], generatedCoverage: [Float]
        let alignment: (transform: ObjectTransform?, expected: Image)?

        init(reference: Image, generated: Image, size s: Int, work: QualityWork) throws {
            func atSize(_ img: Image) -> Image {
                let rgb = img.converted(toChannels: 3)
                return rgb.width == s && rgb.height == s ? rgb : rgb.resizedBilinear(width: s, height: s)
            }
            let c = work.r.config, seg = try work.segmenter()
            func coverage(_ img: Image, _ key: String) -> [Float] {
                let est = ForegroundEstimator(rawValue: c.string(key))!      // the key's check admits only estimator names
                return est.coverage(img, threshold: Float(c.double("border_threshold")), segmenter: seg)
            }
            let rs = atSize(reference), gs = atSize(generated)
            let covR = coverage(rs, "fg_reference"), covG = coverage(gs, "fg_generated")
            self.reference = rs; self.generated = gs; referenceCoverage = covR; generatedCoverage = covG
            guard c.bool("aligned") else { alignment = nil; return }
            let t = ObjectAlignment.estimate(reference: rs, referenceCoverage: covR, generated: gs, generatedCoverage: covG)
            alignment = (t, t.map { ObjectAlignment.expected(reference: rs, referenceCoverage: covR, generated: gs, transform: $0) } ?? gs)
        }
    }

    /// The image terms that multiply the aligned quality (`aligned_terms`).
    var alignedTerms: AlignedQuality.Terms { AlignedQuality.Terms(rawValue: r.config.string("aligned_terms"))! }

    /// The block of the aligned comparison (`aligned_block`, capped at the ViT's depth).
    func alignedBlock(_ vit: ViT) -> Int { min(r.config.int("aligned_block"), vit.config.depth) }

    /// One ViT's map file (and heatmap) of a pair: `reference` and `generated` as read (the loss side and the
    /// heatmap use their size), `view` the pair at the ViT's size.
    func maps(_ item: ItemContext, entry: PairEntry, reference: Image, generated: Image, view: PairView,
              which: String) throws -> [NewArtifact] {
        let vit = try vit(which)
        let b = block(vit, which: which), s = vit.config.imageSize, p = vit.config.patchSize
        let feats = PatchFeatureExtractor.features(vit, images: [view.reference, view.generated], blocks: [b])
        func cells(_ coverage: [Float]) -> [Bool] {
            PatchMask.cells(coverage, width: s, height: s, patch: p, threshold: Float(r.config.double("fg_cell_threshold")))
        }
        let fgG = cells(view.generatedCoverage)
        let norm = QualityNormalization(rawValue: r.config.string("normalization"))!
        let maps = QualityMaps(generated: feats[1][b]!, reference: feats[0][b]!,
                               generatedForeground: fgG, referenceForeground: cells(view.referenceCoverage), normalization: norm)
        let res = r.config.int("loss_resolution")
        let (h, w) = res > 0 ? (res, res) : (generated.height, generated.width)      // the noise the loss sees
        func up(_ q: [Float]) -> TensorData {
            TensorData(shape: [h, w], values: QualityMaps.upsample(q, rows: maps.rows, columns: maps.columns, height: h, width: w))
        }
        var tensors = [
            "q_g": up(maps.qg), "q_r": up(maps.qr),
            "q_g_patch": TensorData(shape: [maps.rows, maps.columns], values: maps.qg),
            "q_r_patch": TensorData(shape: [maps.rows, maps.columns], values: maps.qr),
        ]
        var metadata = ["reference": entry.reference, "generated": entry.generated, "vit": which, "block": "\(b)",
                        "normalization": r.config.string("normalization")]
        var aligned: (q: [Float], expected: Image)?
        if let (t, expected) = view.alignment {
            let ab = alignedBlock(vit)
            let f = PatchFeatureExtractor.features(vit, images: [view.generated, expected], blocks: [ab])
            let qa = AlignedQuality.withTerms(
                AlignedQuality.positional(generated: f[0][ab]!, expected: f[1][ab]!, generatedForeground: fgG, normalization: norm),
                generated: view.generated, expected: expected, patch: p, foreground: fgG, terms: alignedTerms)
            tensors["q_aligned"] = up(qa)
            tensors["q_aligned_patch"] = TensorData(shape: [maps.rows, maps.columns], values: qa)
            metadata["aligned-block"] = "\(ab)"
            metadata["aligned-terms"] = alignedTerms.rawValue
            metadata["aligned-transform"] = t.map(\.summary) ?? "none (an empty foreground mask): the generated image is its own expected image"
            aligned = (qa, expected)
        }
        let file = SafeTensorsFile(tensors: tensors, metadata: metadata)
        var out = [try item.write(SafeTensors.encode(file), name: "q/\(which)/\(item.key).safetensors", kind: "quality-map")]
        if let rank = pairs.firstIndex(where: { $0.key == item.key }), rank < r.config.int("heatmaps") {
            let sheet = try heatmap(reference: reference, generated: generated, maps: maps, aligned: aligned)
            out.append(try item.write(Data(try PNG.encode(sheet)), name: "heatmaps/\(which)/\(item.key).png", kind: "heatmap"))
        }
        return out
    }

    /// reference | generated | q_g over generated | q_r over reference (| expected | q_aligned over generated).
    func heatmap(reference: Image, generated: Image, maps: QualityMaps, aligned: (q: [Float], expected: Image)?) throws -> Image {
        let g = generated.converted(toChannels: 3), rf = reference.converted(toChannels: 3)
        let qg = try g.heatmapOverlay(quality: maps.qg, mapWidth: maps.columns, mapHeight: maps.rows)
        let qr = try rf.heatmapOverlay(quality: maps.qr, mapWidth: maps.columns, mapHeight: maps.rows)
        var panels = [(rf, "reference"), (g, "generated"), (qg, "q_g"), (qr, "q_r")]
        if let aligned {
            let e = aligned.expected.width == g.width && aligned.expected.height == g.height
                ? aligned.expected : aligned.expected.resizedBilinear(width: g.width, height: g.height)
            panels += [(e, "expected"), (try g.heatmapOverlay(quality: aligned.q, mapWidth: maps.columns, mapHeight: maps.rows), "q_aligned")]
        }
        let scale = max(1, 128 / max(g.width, 1))
        return ContactSheet(columns: panels.count, scale: scale).render(panels)
    }

    /// AUROC of 1 - q_g against injected world defects for the original and the finetuned ViT.
    func auroc(_ item: ItemContext) throws -> [NewArtifact] {
        let c = r.config
        let original = try vit("original"), finetuned = try vit("finetuned")
        let samples = try DefectBenchmark.samples(count: c.int("auroc_samples"), seed: UInt64(c.int("auroc_seed")),
                                                  size: original.config.imageSize)
        let expected = c.bool("aligned") ? DefectBenchmark.expectedImages(samples) : nil      // one alignment search for both ViTs
        let norm = QualityNormalization(rawValue: c.string("normalization"))!
        var doc = AUROCDocument(block: block(finetuned, which: "finetuned"), normalization: norm.rawValue, samples: samples.count,
                                defectThreshold: c.double("defect_threshold"), models: [:], byDefect: [:], blocks: [:])
        for (name, v) in [("original", original), ("finetuned", finetuned)] {
            doc.blocks[name] = block(v, which: name)
            let (res, byKind) = DefectBenchmark.evaluateByKind(v, samples: samples, block: block(v, which: name), normalization: norm,
                                                               defectThreshold: Float(c.double("defect_threshold")))
            doc.models[name] = res
            doc.byDefect[name] = byKind
            if let a = res.auroc { try item.metric("auroc_\(name)", a) }
            r.log.info("AUROC (\(name) ViT, block \(block(v, which: name))): \(Self.describe(res))")
            guard let expected else { continue }
            let ab = alignedBlock(v), row = name + "-aligned"
            let (ares, abyKind) = DefectBenchmark.evaluateByKind(v, samples: samples, block: ab, normalization: norm, expectedImages: expected,
                                                                 alignedTerms: alignedTerms,
                                                                 defectThreshold: Float(c.double("defect_threshold")))
            doc.blocks[row] = ab
            doc.models[row] = ares
            doc.byDefect[row] = abyKind
            if let a = ares.auroc { try item.metric("auroc_\(row)", a) }
            r.log.info("AUROC (\(name) ViT, aligned quality, block \(ab)): \(Self.describe(ares))")
        }
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        return [try item.write(try enc.encode(doc), name: "auroc.json", kind: "table")]
    }
}

extension QualityWork {
    /// "0.731 [0.70, 0.76] over 554 defective / 1098 clean foreground cells".
    static func describe(_ res: DefectBenchmark.Result) -> String {
        let ci = res.low.flatMap { lo in res.high.map { String(format: " [%.3f, %.3f]", lo, $0) } } ?? ""
        return (res.auroc.map { String(format: "%.3f", $0) } ?? "n/a") + ci
            + " over \(res.positives) defective / \(res.negatives) clean foreground cells"
    }
}

/// `auroc.json`.
struct AUROCDocument: Encodable {
    let block: Int
    let normalization: String
    let samples: Int
    let defectThreshold: Double
    var models: [String: DefectBenchmark.Result]
    /// The same per defect kind (recolor-decal, drop-stripe, blur-decal, shift-decal, ...): a
    /// shifted decal still matches the reference somewhere, so max-over-patches quality cannot see it.
    var byDefect: [String: [String: DefectBenchmark.Result]]
    /// The block each model was read at (`FeatureBlock`; `aligned_block` for the `<vit>-aligned` rows, the
    /// aligned quality of `aligned = true`); `block` is the finetuned model's.
    var blocks: [String: Int]
}
