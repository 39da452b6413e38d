import Foundation

/// A model the bench evaluates: the base adapter (`adapter == nil`) or one dpo-train adapter.
public struct BenchModel: Codable, Sendable, Equatable {
    /// Display name, unique per (loss, vit, seed); also the item-key part (see `slug`).
    public var name: String
    public var loss: String?
    public var vit: String?
    public var trainSeed: Int?
    /// Run-relative path of the adapter weights (nil for the base model), or of JeDi's trained weights when `base` is "jedi".
    public var adapter: String?
    /// The generator dpo-train trained: nil = the IP-Adapter model, "jedi" = JeDi (its loss then reads `<loss>-jedi`).
    public var base: String?
    public init(name: String, loss: String?, vit: String?, trainSeed: Int?, adapter: String?, base: String? = nil) {
        self.name = name; self.loss = loss; self.vit = vit; self.trainSeed = trainSeed; self.adapter = adapter; self.base = base
    }
    public static let baseName = "original"
    public static let base = BenchModel(name: baseName, loss: nil, vit: nil, trainSeed: nil, adapter: nil)

    /// File- and key-safe form of the name ("patchdpo (finetuned ViT) s1" -> "patchdpo-finetuned-vit-s1").
    public var slug: String { BenchModel.slug(name) }
    public static func slug(_ s: String) -> String {
        let parts = s.lowercased().split { !($0.isLetter || $0.isNumber || $0 == "." || $0 == "_") }
        return parts.joined(separator: "-")
    }
}

/// A dpo-train record `adapter-*.json` or `jedi-*.json` (Objectives' AdapterRecord), decoded leniently: `vit`,
/// `name` and `base` are optional (absent in older files), other fields are ignored.
public struct AdapterRecordInfo: Decodable, Sendable, Equatable {
    public var loss: String
    public var seed: UInt64?
    public var vit: String?
    public var name: String?
    public var base: String?

    /// Parses a record; the error names `path`.
    public static func decode(_ data: Data, path: String) throws(BenchError) -> AdapterRecordInfo {
        do { return try JSONDecoder().decode(AdapterRecordInfo.self, from: data) } catch {
            throw .badFile(path: path, reason: "not an adapter record: \(error)", hint: "rerun dpo-train")
        }
    }

    /// The bench model of this record and its weights (`adapter` run-relative). Name: the record's
    /// `name`, else "<loss>" + " (<vit> ViT)" when vit is set. A JeDi-trained model's loss reads `<loss>-jedi` (the row
    /// `patchdpo-jedi` of issue 17), in its name too (`patchdpo-jedi-finetuned-s1`), so it never pools with the adapter's.
    public func model(adapter: String) -> BenchModel {
        let trainSeed = seed.map { Int(truncatingIfNeeded: $0) }
        guard base == "jedi" else {
            return BenchModel(name: name ?? (loss + (vit.map { " (\($0) ViT)" } ?? "")), loss: loss, vit: vit, trainSeed: trainSeed, adapter: adapter)
        }
        let label = loss + "-jedi"
        let display = name.map { label + $0.dropFirst(loss.count) } ?? (label + (vit.map { " (\($0) ViT)" } ?? ""))
        return BenchModel(name: display, loss: label, vit: vit, trainSeed: trainSeed, adapter: adapter, base: "jedi")
    }
}

/// `items/<model slug>/<subject>.json` (kind `scores`): every image of one (model or frontier
/// point, subject) item with its judge scores.
public struct BenchItemRecord: Codable, Sendable, Equatable {
    public var key: String
    public var model: String
    /// DCO reward-guidance weight of a frontier item (nil for the DreamBench items).
    public var wRG: Double?
    public var subject: String
    /// Run-relative paths of the references (reference 0 = the fixed one the generator saw).
    public var references: [String]
    /// How many references the generator was conditioned on: nil or 1 = reference 0 only; more = the
    /// first `conditionedOn` (the bench's `condition_on_all`). Absent in records written before it existed.
    public var conditionedOn: Int?
    public var prompts: [String]
    public var images: [ImageScores]
    public init(key: String, model: String, wRG: Double?, subject: String, references: [String], prompts: [String], images: [ImageScores],
                conditionedOn: Int? = nil) {
        self.key = key; self.model = model; self.wRG = wRG; self.subject = subject; self.references = references
        self.prompts = prompts; self.images = images; self.conditionedOn = conditionedOn
    }

    /// Whether the generator saw more than reference 0.
    public var conditionedOnAll: Bool { (conditionedOn ?? 1) > 1 }

    public func encoded() throws -> Data { try BenchJSON.encode(self) }

    public static func decode(_ data: Data, path: String) throws(BenchError) -> BenchItemRecord {
        do { return try JSONDecoder().decode(BenchItemRecord.self, from: data) } catch {
            throw .badFile(path: path, reason: "not a bench item record: \(error)", hint: "rerun bench with --force")
        }
    }
}

/// Stable JSON (sorted keys, pretty, unescaped slashes).
public enum BenchJSON {
    /// Throws instead of writing an empty file (a non-finite number cannot be JSON).
    public static func encode<T: Encodable>(_ value: T) throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return try e.encode(value)
    }
}
