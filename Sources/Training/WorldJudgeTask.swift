import Autograd
import Models
import NN
import Random
import TensorCore
import Text
import World

/// Instance-discrimination InfoNCE (SimCLR / MoCo-v3 form, cross-view only):
/// za = normalize(a), zb = normalize(b) (rows of [N, D]); logits = za zb^T / tau, [N, N];
/// L = (CE(logits, diag) + CE(logits^T, diag)) / 2: view A of subject i must pick view B of subject i
/// among the batch's N subjects, and vice versa.
public enum InstanceDiscrimination {
    public static func infoNCE(_ a: Variable, _ b: Variable, temperature: Float) -> Variable {
        precondition(a.shape == b.shape && a.shape.count == 2, "infoNCE: views \(a.shape) vs \(b.shape), want two [N, D]")
        precondition(temperature > 0, "infoNCE: temperature \(temperature) must be positive")
        let za = CLIPModel.normalize(a), zb = CLIPModel.normalize(b)
        return CLIPModel.symmetricInfoNCE(za.matmul(zb.transposed(0, 1)) * (1 / temperature))
    }
}

/// The labels of a batch for every head of a judge, per row (`WorldAttribute` raw values as head names).
public enum JudgeLabels {
    /// The heads of a judge that reads every `WorldAttribute`, in `WorldAttribute.allCases` order.
    public static var heads: [JudgeHeadSpec] {
        WorldAttribute.allCases.map { JudgeHeadSpec(name: $0.rawValue, classes: $0.classNames.count) }
    }

    /// Labels per head name for renders of `subjects[i]` on `backgrounds[i]`; a head whose name is not
    /// a `WorldAttribute` is a programming error.
    public static func labels(heads: [JudgeHeadSpec], subjects: [Subject], backgrounds: [Background]) -> [String: [Int32]] {
        precondition(subjects.count == backgrounds.count, "JudgeLabels: \(subjects.count) subjects, \(backgrounds.count) backgrounds")
        var out: [String: [Int32]] = [:]
        for h in heads {
            guard let a = WorldAttribute(rawValue: h.name) else { preconditionFailure("JudgeLabels: head \(h.name) is not a world attribute") }
            out[h.name] = zip(subjects, backgrounds).map { Int32(a.label($0, background: $1)) }
        }
        return out
    }
}

/// Loss weights of the judge's three objectives.
public struct JudgeLossWeights: Sendable, Equatable {
    public var attributes: Float
    public var instance: Float
    public var clip: Float
    public init(attributes: Float = 1, instance: Float = 1, clip: Float = 1) {
        self.attributes = attributes; self.instance = instance; self.clip = clip
    }
}

/// The judge's training task (issue 14), on `InstanceData` batches (N subjects x 2 views in different
/// scenes and poses, groups of `perCategory` same-category subjects as hard negatives):
///   L = w_a * sum_heads CE(head logits, world label)          (attribute and scene judges)
///     + w_i * InfoNCE(embedding view A, embedding view B; tau) (DINO stand-in)
///     + w_c * symmetric InfoNCE(exp(s) u v^T)                  (CLIP stand-in: u image, v caption rows)
/// A row's caption is the comprehensive one (colour, pattern, decal, place) with probability
/// `captionFraction`, else a plain prompt, as the old clip-judge.
public final class WorldJudgeTask: PretrainTask {
    public let judge: WorldJudge
    public let tokenizer: WordTokenizer
    public let data: WorldDataConfig
    public let seed: UInt64
    public let subjects: Int
    public let perCategory: Int
    public let temperature: Float
    public let captionFraction: Float
    public let weights: JudgeLossWeights
    /// Per-objective values of the last `loss` call (for logging).
    public private(set) var lastParts: [String: Float] = [:]

    public init(judge: WorldJudge, tokenizer: WordTokenizer, data: WorldDataConfig, seed: UInt64, subjects: Int, perCategory: Int,
                temperature: Float, captionFraction: Float, weights: JudgeLossWeights = JudgeLossWeights()) {
        precondition(subjects >= 2, "WorldJudgeTask: \(subjects) subjects per batch; InfoNCE needs >= 2")
        self.judge = judge; self.tokenizer = tokenizer; self.data = data; self.seed = seed; self.subjects = subjects
        self.perCategory = perCategory; self.temperature = temperature; self.captionFraction = captionFraction
        self.weights = weights
    }

    public var trainable: [(String, Parameter)] { judge.namedParameters() }

    /// The captions of a batch's rows (plain or comprehensive, keyed by (seed, step, row)).
    public func captions(_ b: InstanceBatch, step: Int) -> [String] {
        let k = RNGKey(seed: seed).fold(in: "judge-captions").fold(in: UInt64(step))
        let n = b.subjects.count
        return b.backgrounds.indices.map { i in
            let s = b.subjects[i % n], bg = b.backgrounds[i]
            return k.uniform(at: UInt64(2 * i)) < captionFraction
                ? Prompts.comprehensive(s, bg)
                : Prompts.plain(s.category, bg, seed: UInt64(k.uint32(at: UInt64(2 * i + 1))))
        }
    }

    public func loss(step: Int) throws -> Variable {
        judge.train(true)
        let b = try InstanceData.batch(seed: seed, step: step, subjects: subjects, perCategory: perCategory, config: data)
        let n = subjects
        let rowSubjects = b.subjects + b.subjects
        let out = judge.forward(Variable(b.images))
        let labels = JudgeLabels.labels(heads: judge.config.heads, subjects: rowSubjects, backgrounds: b.backgrounds)
        var attr: Variable? = nil
        var parts: [String: Float] = [:]
        for h in judge.config.heads {
            let ce = crossEntropyLoss(out.logits[h.name]!, targets: labels[h.name]!)
            parts["ce_" + h.name] = ce.value.scalars[0]
            attr = attr.map { $0 + ce } ?? ce
        }
        let inst = InstanceDiscrimination.infoNCE(out.embedding.slice(axis: 0, start: 0, end: n),
                                                  out.embedding.slice(axis: 0, start: n, end: 2 * n), temperature: temperature)
        let text = judge.textEmbeddings(captions(b, step: step).map(tokenizer.encode))
        let clip = CLIPModel.symmetricInfoNCE(out.clipImage.matmul(text.transposed(0, 1)) * judge.logitScale.exp())
        parts["instance"] = inst.value.scalars[0]
        parts["clip"] = clip.value.scalars[0]
        lastParts = parts
        return attr! * weights.attributes + inst * weights.instance + clip * weights.clip
    }

    public func afterUpdate() { judge.clampLogitScale() }
}
