import Autograd
import Checkpoint
import Foundation
import Imaging
import Manifest
import Models
import Objectives
import StageKit
import TensorCore
import Upstream
import World

/// One training pair, decoded and encoded once (the encoders are frozen):
/// `first`/`second` `[1, C, h, w]` ([winner, loser] or [reference, generated]; the images, or their
/// scaled latents for a latent U-Net), `text` `[1, Lt, D]`, `image` `[1, N, E]` (reference-encoder
/// tokens of the pool item's reference), quality maps `[1, 1, h, w]` on the same grid.
struct EncodedPair {
    var key: String
    var first: Tensor
    var second: Tensor
    var text: Tensor
    var image: Tensor
    var qr: Tensor?
    var qg: Tensor?
}

/// A pair as listed by score-and-pair: two image paths (relative to the run directory) and a key.
struct ListedPair {
    var key: String
    var first: String
    var second: String
}

enum PairLists {
    /// `pairs.json` (HG-DPO: winner/loser per prompt) or `patchdpo-pairs.json` (reference/generated).
    /// Accepted: a top-level array or an object with `pairs`; entries with string fields
    /// `winner`/`loser` or `reference`/`generated` (a string or an array of strings), optional `key`.
    static func parse(_ data: Data, path: String, pool: Bool) throws -> [ListedPair] {
        let json = try? JSONSerialization.jsonObject(with: data)
        let list: [Any]
        if let a = json as? [Any] { list = a } else if let o = json as? [String: Any], let a = o["pairs"] as? [Any] { list = a } else {
            throw DPOTrainError.badPairs(path: path, detail: "expected a JSON array or an object with `pairs`")
        }
        let (a, b) = pool ? ("winner", "loser") : ("reference", "generated")
        var out: [ListedPair] = []
        for (i, e) in list.enumerated() {
            guard let o = e as? [String: Any], let first = o[a] as? String else {
                throw DPOTrainError.badPairs(path: path, detail: "pairs[\(i)] has no string `\(a)`")
            }
            let seconds = (o[b] as? String).map { [$0] } ?? (o[b] as? [String]) ?? []
            guard !seconds.isEmpty else { throw DPOTrainError.badPairs(path: path, detail: "pairs[\(i)] has no `\(b)`") }
            for s in seconds {
                let given = (o["key"] as? String).map { seconds.count > 1 ? "\($0)-\(stem(s))" : $0 }
                out.append(ListedPair(key: given ?? "\(parentName(s))-\(stem(s))", first: first, second: s))
            }
        }
        if out.isEmpty { throw DPOTrainError.badPairs(path: path, detail: "lists no pairs") }
        return out
    }

    static func stem(_ p: String) -> String { ((p as NSString).lastPathComponent as NSString).deletingPathExtension }
    static func parentName(_ p: String) -> String { ((p as NSString).deletingLastPathComponent as NSString).lastPathComponent }
}

/// Decodes and encodes every listed pair with the frozen text and image encoders.
struct PairEncoder {
    let up: UpstreamArtifacts
    let models: LoadedModels
    let resolution: Int

    /// The recorded pool artifact whose path ends with `path` (pairs files may give run-relative or pool-relative paths).
    func poolArtifact(_ path: String) throws -> ArtifactRecord {
        let pool = try up.outputs("generate-pool")
        guard let a = pool.first(where: { $0.relativePath == path || $0.relativePath.hasSuffix("/" + path) }) else {
            throw DPOTrainError.badImage(path: path, detail: "not recorded by generate-pool")
        }
        return a
    }

    /// The empty prompt's text states `[1, Lt, D]` (the condition-dropout and CFG null text).
    var nullText: Tensor {
        withNoGrad { models.textEncoder.forward([models.tokenizer.encode("")]).states.value }
    }

    /// The zero image's reference-encoder tokens `[1, N, E]` (the null image: the sampler's null tokens
    /// are the resampler of these).
    var nullImage: Tensor {
        withNoGrad { models.referenceEncoder.tokens(Variable(Tensor(zeros: [1, 3, resolution, resolution]))).value }
    }

    /// What the U-Net denoises for the pool image at `path`: the image, or its scaled latents.
    func sample(_ path: String) throws -> Tensor {
        AutoencoderKL.diffusionSpace(try image(path), vae: models.vae)
    }

    /// The side of the grid the losses run on (and quality maps are resized to): the image's, or the latents'.
    var lossSide: Int { models.vae.map { resolution / $0.config.downsampleFactor } ?? resolution }

    func image(_ path: String) throws -> Tensor {
        let a = try poolArtifact(path)
        let img: Image
        do { img = try PNG.decode([UInt8](try up.data(a, of: "generate-pool")), name: a.relativePath) } catch let e as StageError { throw e } catch {
            throw DPOTrainError.badImage(path: a.relativePath, detail: "\(error)")
        }
        guard img.channels == 3, img.width == resolution, img.height == resolution else {
            throw DPOTrainError.badImage(path: a.relativePath, detail: "is \(img.width)x\(img.height)x\(img.channels); want \(resolution)x\(resolution) RGB")
        }
        return Tensor(shape: [1, 3, resolution, resolution], scalars: img.toCHW())
    }

    /// The prompt of the pool item holding `path` (`pool/<key>/prompt.json`, field `prompt`).
    func prompt(for path: String) throws -> String {
        let dir = (try poolArtifact(path).relativePath as NSString).deletingLastPathComponent
        guard let a = (try up.outputs("generate-pool")).first(where: { $0.relativePath == dir + "/prompt.json" }) else {
            throw DPOTrainError.badImage(path: dir + "/prompt.json", detail: "missing")
        }
        guard let o = try JSONSerialization.jsonObject(with: try up.data(a, of: "generate-pool")) as? [String: Any], let p = o["prompt"] as? String else {
            throw DPOTrainError.badImage(path: a.relativePath, detail: "has no string `prompt`")
        }
        return p
    }

    /// The pool item's reference image (`pool/<key>/reference.png`) of the item holding `path`.
    func referencePath(for path: String) throws -> String {
        ((try poolArtifact(path).relativePath as NSString).deletingLastPathComponent as NSString)
            .appendingPathComponent("reference.png")
    }

    /// Quality maps `q/<vit>/<key>.safetensors` (`q_r`, `q_g`; its metadata `vit` must say `vit`), resized
    /// to the loss resolution, `[1, 1, H, W]`.
    func qualityMaps(key: String, vit: String) throws -> (Tensor, Tensor) {
        guard let a = (try up.outputs("patch-quality")).first(where: { $0.relativePath.hasSuffix("/q/\(vit)/\(key).safetensors") }) else {
            throw DPOTrainError.missingQualityMap(key: key, hint: "patch-quality recorded no q/\(vit)/\(key).safetensors; "
                                                  + "add \"\(vit)\" to [patch-quality].vits and rerun patch-quality")
        }
        let file = try SafeTensors.parse(try up.data(a, of: "patch-quality"), path: a.relativePath)
        guard file.metadata["vit"] == vit else {
            throw DPOTrainError.missingQualityMap(key: key, hint: "\(a.relativePath) says vit = \(file.metadata["vit"] ?? "nothing"), "
                                                  + "not \(vit); rerun patch-quality")
        }
        func map(_ name: String) throws -> Tensor {
            guard let t = file.tensors[name], t.values.count > 0 else {
                throw DPOTrainError.missingQualityMap(key: key, hint: "\(a.relativePath) has no tensor `\(name)`")
            }
            let side = Int(Double(t.values.count).squareRoot())
            guard side * side == t.values.count else {
                throw DPOTrainError.missingQualityMap(key: key, hint: "\(a.relativePath): `\(name)` of shape \(t.shape) is not square")
            }
            var m = Tensor(shape: [1, 1, side, side], scalars: t.values)
            if side != lossSide { m = Kernels.resizeBilinear(m, height: lossSide, width: lossSide) }
            m.scalars = m.scalars.map { min(max($0, 0), 1) }
            return m
        }
        return (try map("q_r"), try map("q_g"))
    }

    /// The comprehensive caption (DCO 4.3) of the pool item holding `path`: its subject's colour,
    /// pattern and decal on the clean background, which is what the item's reference image shows.
    func comprehensiveCaption(for path: String) throws -> String {
        let dir = (try poolArtifact(path).relativePath as NSString).deletingLastPathComponent
        guard let a = (try up.outputs("generate-pool")).first(where: { $0.relativePath == dir + "/prompt.json" }) else {
            throw DPOTrainError.badImage(path: dir + "/prompt.json", detail: "missing")
        }
        guard let o = try JSONSerialization.jsonObject(with: try up.data(a, of: "generate-pool")) as? [String: Any],
              let s = o["subject"] as? [String: Any], let name = s["category"] as? String,
              let category = ObjectCategory(rawValue: name), let instance = (s["instance"] as? NSNumber)?.uint64Value else {
            throw DPOTrainError.badImage(path: a.relativePath, detail: "has no `subject` with a known `category` and an `instance`")
        }
        return Prompts.comprehensive(Subject(category: category, instance: instance), .clean)
    }

    /// Encodes `pairs`; with `mapsOf`, each pair also gets that ViT's quality maps; with
    /// `comprehensiveCaptions`, the text is the item's comprehensive caption instead of its prompt.
    func encode(_ pairs: [ListedPair], mapsOf vit: String?, comprehensiveCaptions: Bool = false) throws -> [EncodedPair] {
        try withNoGrad {
            try pairs.map { p in
                let caption = comprehensiveCaptions ? try comprehensiveCaption(for: p.second) : try prompt(for: p.second)
                let ids = [models.tokenizer.encode(caption)]
                let text = models.textEncoder.forward(ids).states.value
                let ref = try image(try referencePath(for: p.first))
                let tokens = models.referenceEncoder.tokens(Variable(ref)).value
                let maps = try vit.map { try qualityMaps(key: p.key, vit: $0) }
                return EncodedPair(key: p.key, first: try sample(p.first), second: try sample(p.second), text: text,
                                   image: tokens, qr: maps?.0, qg: maps?.1)
            }
        }
    }
}

extension Array where Element == EncodedPair {
    /// The batch of the pairs at `indices`, for `kind`.
    func batch(_ indices: [Int], kind: LossKind) -> PreferenceBatch {
        let ps = indices.map { self[$0] }
        func cat(_ f: (EncodedPair) -> Tensor) -> Tensor { Kernels.concat(ps.map(f), axis: 0) }
        let maps = kind.needsQualityMaps
        return PreferenceBatch(first: cat(\.first), second: kind.rowsPerPair == 2 ? cat(\.second) : nil,
                               text: cat(\.text), imageFeatures: cat(\.image),
                               referenceQuality: maps ? cat { $0.qr! } : nil, generatedQuality: maps ? cat { $0.qg! } : nil)
    }
}
