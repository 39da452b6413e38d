import Autograd
import Checkpoint
import Foundation
import Generation
import Imaging
import Manifest
import Models
import NN
import Pretrained
import Random
import Report
import TensorCore
import Text
import World

/// What the judge reads from one image: the DINO-stand-in embedding, the CLIP-stand-in image row
/// (unit norm) and the predicted class of every attribute head (by head name, e.g. `category`).
public struct JudgeReading: Sendable, Equatable {
    public var embedding: [Float]
    public var clip: [Float]
    public var attributes: [String: Int]
}

/// The bench's judges (MODELS.md "Judges"; issue 14), all heads of one `WorldJudge` from `pretrain-judge`:
/// DINO = cosine of its embeddings, CLIP-I / CLIP-T = cosines of its CLIP-stand-in image / text rows,
/// identity / detail / scene = its attribute heads against the truth. Images are RGB, resized to the
/// judge's input size and mapped to [-1, 1]. Not thread-safe.
public final class BenchJudges {
    public let judge: WorldJudge
    public let tokenizer: WordTokenizer
    /// Role, weights path, SHA-256 and record metrics (for `ProtocolInfo.judges`).
    public let info: [JudgeInfo]

    public init(judge: WorldJudge, tokenizer: WordTokenizer, info: [JudgeInfo] = []) {
        self.judge = judge; self.tokenizer = tokenizer; self.info = info
        judge.train(false)
    }

    /// Loads the judge from its weights and record (`judge` config and `tokenizerWords` required; the
    /// weights must match the record's SHA-256; the words must equal this code's vocabulary).
    /// `name` is what the report shows (a run-relative path).
    public static func load(weights: URL, record: URL, name: String) throws -> BenchJudges {
        let rec = try PretrainRecord.read(record)
        guard let cfg = rec.judge else {
            throw BenchError.badFile(path: record.path, reason: "record has no `judge` config",
                                     hint: "the judge record is written by `pretrain judge`; rerun that stage")
        }
        let tok = try WorldText.tokenizer(for: rec, path: record, maxLength: cfg.text.maxLength)
        let (data, hash) = try checked(weights, record: rec)
        let judge: WorldJudge
        do {
            judge = try WorldJudge(config: cfg, key: RNGKey(seed: 0))
            try judge.loadStrict(try SafeTensors.parse(data, path: weights.path), path: weights.path)
        } catch {
            throw BenchError.badFile(path: weights.path, reason: "\(error)", hint: "rerun the stage that wrote it")
        }
        return BenchJudges(judge: judge, tokenizer: tok, info: [
            JudgeInfo(role: "judge (DINO, CLIP and attribute stand-ins)", weights: name, sha256: hash,
                      metrics: rec.metrics.filter { gateMetrics.contains($0.key) }),
        ])
    }

    /// The record metrics the report shows: the judge's gates (Training's `WorldJudgeGates.targets`), not
    /// its per-class diagnostics.
    public static let gateMetrics: Set<String> = [
        "accuracy_category", "accuracy_main_color", "accuracy_body_pattern", "accuracy_decal", "accuracy_decal_color",
        "accuracy_background", "dino_auroc", "dino_top1", "clip_i_same", "clip_i_gap", "clip_t_top1",
    ]

    static func checked(_ url: URL, record: PretrainRecord) throws -> (Data, String) {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw BenchError.missingInput(path: url.path, hint: "rerun the stage that writes it")
        }
        let hash = SHA256.hex(data)
        guard record.weightsSHA256.isEmpty || record.weightsSHA256 == hash else {
            throw BenchError.badFile(path: url.path, reason: "sha256 differs from its record's", hint: "rerun the stage that writes it")
        }
        return (data, hash)
    }

    /// One reading per image (64 images per forward).
    public func read(_ images: [Image]) throws -> [JudgeReading] {
        var out: [JudgeReading] = []
        for start in stride(from: 0, to: images.count, by: 64) {
            let part = Array(images[start..<min(images.count, start + 64)])
            let x = try Sampler.tensor(part, size: judge.config.tower.imageSize)
            let o = judge.read(x)
            let preds = Dictionary(uniqueKeysWithValues: o.logits.map { ($0.key, argmaxRows($0.value.value)) })
            let e = rows(o.embedding.value), c = rows(o.clipImage.value)
            for i in part.indices {
                out.append(JudgeReading(embedding: e[i], clip: c[i], attributes: preds.mapValues { $0[i] }))
            }
        }
        return out
    }

    /// CLIP-stand-in text embeddings (unit norm), one row per prompt.
    public func textEmbeddings(_ prompts: [String]) -> [[Float]] {
        rows(withNoGrad { judge.textEmbeddings(prompts.map(tokenizer.encode)).value })
    }

    /// Scores of `images` (prompt text `prompts[i]`, expected attributes `expected[i]`) against
    /// `references` (reference 0 first).
    public func score(images: [Image], prompts: [String], expected: [AttributeExpectation],
                      references: [Image]) throws -> [JudgedImage] {
        precondition(images.count == prompts.count && images.count == expected.count && !references.isEmpty,
                     "BenchJudges.score: \(images.count) images, \(prompts.count) prompts, \(expected.count) expectations, \(references.count) references")
        let all = try read(references + images)
        let t = textEmbeddings(prompts)
        let r = references.count
        return images.indices.map { i in
            let g = all[r + i]
            let s = BenchMetrics.imageScores(dino: [g.embedding] + all[0..<r].map(\.embedding), clip: [g.clip] + all[0..<r].map(\.clip),
                                             text: t[i])
            let a = BenchMetrics.attributeScores(predicted: g.attributes, expected: expected[i])
            return JudgedImage(dino: s.dino, clipI: s.clipI, clipT: s.clipT, identity: a.identity, detail: a.detail, scene: a.scene,
                               attributes: g.attributes)
        }
    }

    /// Row-wise argmax of [B, K] (ties to the lower index).
    private func argmaxRows(_ m: Tensor) -> [Int] {
        let k = m.shape[1]
        return (0..<m.shape[0]).map { r in
            var best = 0
            for j in 1..<k where m.scalars[r * k + j] > m.scalars[r * k + best] { best = j }
            return best
        }
    }

    private func rows(_ m: Tensor) -> [[Float]] {
        let (b, d) = (m.shape[0], m.shape[1])
        return (0..<b).map { Array(m.scalars[($0 * d)..<(($0 + 1) * d)]) }
    }
}

/// The judges' scores of one image (see `ImageScores` for each field).
public struct JudgedImage: Sendable, Equatable {
    public var dino: [Double]
    public var clipI: [Double]
    public var clipT: Double
    public var identity: Double?
    public var detail: Double?
    public var scene: Double?
    public var attributes: [String: Int]
}
