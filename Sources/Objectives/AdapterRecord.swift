import Foundation

/// `<base>-<name>.json` (`adapter-<name>.json`, `jedi-<name>.json`), written by dpo-train next to each trained
/// policy's weights: what was trained and how. `vit` (the ViT whose quality maps a PatchDPO-family loss used:
/// finetuned | original), `name` (the run name, see `DPORun.name`), `base` (the generator: adapter | jedi; absent
/// = adapter) and `trainable` are absent in records written before they existed.
public struct AdapterRecord: Codable, Sendable, Equatable {
    public var loss: String
    public var steps: Int
    /// The run's own seed (`[dpo-train].seeds` entry).
    public var seed: UInt64
    public var codeVersion: String
    public var config: String
    public var beta: Double
    /// beta as it multiplies the loss's logit (beta * `LossKind.betaScale`): Diffusion-DPO's code halves
    /// its beta, HG-DPO's Eq. 3 does not. Absent in records written before it existed.
    public var effectiveBeta: Double?
    public var finalLoss: Double?
    public var finalImplicitAccuracy: Double?
    public var weightsSHA256: String
    public var vit: String?
    public var name: String?
    public var base: String?
    /// Which weights trained (`adapter_trainable`: image | image+attention; `jedi_trainable`: attention | all). Absent in
    /// records written before it existed (the adapter's image branch, JeDi's attention).
    public var trainable: String?

    public init(loss: String, steps: Int, seed: UInt64, codeVersion: String, config: String, beta: Double,
                finalLoss: Double?, finalImplicitAccuracy: Double?, weightsSHA256: String, vit: String? = nil, name: String? = nil,
                base: GeneratorBase = .adapter, trainable: String? = nil) {
        self.loss = loss; self.steps = steps; self.seed = seed; self.codeVersion = codeVersion; self.config = config
        self.beta = beta; self.effectiveBeta = LossKind(rawValue: loss).map { beta * $0.betaScale }; self.finalLoss = finalLoss; self.finalImplicitAccuracy = finalImplicitAccuracy
        self.weightsSHA256 = weightsSHA256; self.vit = vit; self.name = name; self.base = base.rawValue
        self.trainable = trainable
    }

    /// Pretty, key-sorted JSON.
    /// Throws instead of returning an empty file (a non-finite loss cannot be JSON).
    public func encoded() throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .prettyPrinted]
        return try e.encode(self)
    }
}

/// The personalized generator preference training changes: the IP-Adapter model (its image branch) or JeDi
/// (its joint-image U-Net).
public enum GeneratorBase: String, Sendable, CaseIterable {
    case adapter, jedi
}

/// One preference-training run of dpo-train: a loss, the ViT whose quality maps it reads (PatchDPO-family
/// losses only, else nil), a seed and the generator it trains. `name` = `<loss>[-<vit>]-s<seed>`, e.g.
/// `patchdpo-finetuned-s1`, `diffusion-dpo-s2`; the outputs are `<base>-<name>.safetensors` and `<base>-<name>.json`
/// (`adapter-patchdpo-finetuned-s1.safetensors`, `jedi-dm-s1.json`).
public struct DPORun: Sendable, Equatable {
    public var kind: LossKind
    public var vit: String?
    public var seed: Int
    public var base: GeneratorBase

    public init(kind: LossKind, vit: String?, seed: Int, base: GeneratorBase = .adapter) {
        self.kind = kind; self.vit = vit; self.seed = seed; self.base = base
    }

    public var name: String { kind.rawValue + (vit.map { "-" + $0 } ?? "") + "-s\(seed)" }
    /// The outputs' file name without extension: `<base>-<name>`.
    public var fileStem: String { base.rawValue + "-" + name }

    /// Every run, in training order: for each seed, for each loss, for each ViT of `vits` when the loss
    /// needs quality maps (one run otherwise). The order is a function of the config alone, so a resumed
    /// stage finds each run at the same global step offset (run index x steps).
    public static func plan(losses: [LossKind], vits: [String], seeds: [Int], base: GeneratorBase = .adapter) -> [DPORun] {
        precondition(!vits.isEmpty || !losses.contains { $0.needsQualityMaps }, "DPORun.plan: PatchDPO losses \(losses) with no ViT")
        var out: [DPORun] = []
        for seed in seeds {
            for kind in losses {
                if kind.needsQualityMaps {
                    for v in vits { out.append(DPORun(kind: kind, vit: v, seed: seed, base: base)) }
                } else {
                    out.append(DPORun(kind: kind, vit: nil, seed: seed, base: base))
                }
            }
        }
        return out
    }
}
