import Autograd
import Checkpoint
import Foundation
import Generation
import Imaging
import Manifest
import Models
import NN
import Random
import Report
import TensorCore
import Text

/// The bench's two judges (MODELS.md "Judges"): a ViT whose class token after the final norm is the
/// DINO embedding [B, D], and a CLIP pair whose image / text embeddings [B, E] give CLIP-I and CLIP-T.
/// Images are RGB, resized to each judge's input size and mapped to [-1, 1]. Not thread-safe.
public final class BenchJudges {
    public let dino: ViT
    public let clip: CLIPModel
    public let tokenizer: WordTokenizer
    /// Role, weights path, SHA-256 and record metrics of each judge (for `ProtocolInfo.judges`).
    public let info: [JudgeInfo]

    public init(dino: ViT, clip: CLIPModel, tokenizer: WordTokenizer = WorldText.tokenizer(), info: [JudgeInfo] = []) {
        self.dino = dino; self.clip = clip; self.tokenizer = tokenizer; self.info = info
        dino.train(false)
        clip.train(false)
    }

    /// Loads both judges from (weights, record) pairs. The DINO record needs `vit`, the CLIP record
    /// `clip`; weights must match the record's SHA-256; a CLIP record's `tokenizerWords` must equal
    /// the project tokenizer's. `weightsName` is what the report shows (a run-relative path).
    public static func load(dino: (weights: URL, record: URL, name: String), clip: (weights: URL, record: URL, name: String),
                            roles: (dino: String, clip: String) = ("dino", "clip")) throws -> BenchJudges {
        let dr = try PretrainRecord.read(dino.record), cr = try PretrainRecord.read(clip.record)
        guard let vcfg = dr.vit else {
            throw BenchError.badFile(path: dino.record.path, reason: "record has no `vit` config",
                                     hint: "the DINO judge record is a PretrainRecord with `vit` set; rerun its stage")
        }
        let (vdata, vhash) = try checked(dino.weights, record: dr)
        let vit: ViT
        do {
            vit = try ViT(config: vcfg, key: RNGKey(seed: 0))
            try vit.loadStrict(try SafeTensors.parse(vdata, path: dino.weights.path), path: dino.weights.path)
        } catch {
            throw BenchError.badFile(path: dino.weights.path, reason: "\(error)", hint: "rerun the stage that wrote it")
        }
        let clipModel = try Generator.loadCLIP(weights: clip.weights, record: cr)
        let tok = WorldText.tokenizer(maxLength: cr.clip?.text.maxLength ?? 12)
        if let words = cr.tokenizerWords, words != tok.words {
            throw BenchError.badFile(path: clip.record.path, reason: "tokenizerWords differ from this code's vocabulary",
                                     hint: "retrain the CLIP judge with this code")
        }
        let (_, chash) = try checked(clip.weights, record: cr)
        return BenchJudges(dino: vit, clip: clipModel, tokenizer: tok, info: [
            JudgeInfo(role: roles.dino, weights: dino.name, sha256: vhash, metrics: dr.metrics),
            JudgeInfo(role: roles.clip, weights: clip.name, sha256: chash, metrics: cr.metrics),
        ])
    }

    static func checked(_ url: URL, record: PretrainRecord) throws -> (Data, String) {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw BenchError.badFile(path: url.path, reason: "weights file missing", hint: "rerun the stage that writes it")
        }
        let hash = SHA256.hex(data)
        guard record.weightsSHA256.isEmpty || record.weightsSHA256 == hash else {
            throw BenchError.badFile(path: url.path, reason: "sha256 differs from its record's", hint: "rerun the stage that writes it")
        }
        return (data, hash)
    }

    /// DINO embeddings (class token after the final norm), one row per image.
    public func dinoEmbeddings(_ images: [Image]) throws -> [[Float]] {
        let x = try Sampler.tensor(images, size: dino.config.imageSize)
        return rows(withNoGrad { dino.forward(Variable(x)).classToken.value })
    }

    /// CLIP image embeddings (unit norm), one row per image.
    public func clipImageEmbeddings(_ images: [Image]) throws -> [[Float]] {
        let x = try Sampler.tensor(images, size: clip.config.vision.imageSize)
        return rows(withNoGrad { clip.imageEmbeddings(Variable(x)).value })
    }

    /// CLIP text embeddings (unit norm), one row per prompt.
    public func textEmbeddings(_ prompts: [String]) -> [[Float]] {
        rows(withNoGrad { clip.textEmbeddings(prompts.map(tokenizer.encode)).value })
    }

    /// Scores of `images` (prompt text `prompts[i]`) against `references` (reference 0 first).
    public func score(images: [Image], prompts: [String], references: [Image]) throws -> [(dino: [Double], clipI: [Double], clipT: Double)] {
        precondition(images.count == prompts.count && !references.isEmpty,
                     "BenchJudges.score: \(images.count) images, \(prompts.count) prompts, \(references.count) references")
        let d = try dinoEmbeddings(references + images), c = try clipImageEmbeddings(references + images)
        let t = textEmbeddings(prompts)
        let r = references.count
        return images.indices.map { i in
            BenchMetrics.imageScores(dino: [d[r + i]] + Array(d[0..<r]), clip: [c[r + i]] + Array(c[0..<r]), text: t[i])
        }
    }

    private func rows(_ m: Tensor) -> [[Float]] {
        let (b, d) = (m.shape[0], m.shape[1])
        return (0..<b).map { Array(m.scalars[($0 * d)..<(($0 + 1) * d)]) }
    }
}
