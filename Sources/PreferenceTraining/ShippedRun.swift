import Checkpoint
import ErrorKinds
import Foundation
import Manifest
import Objectives
import TensorCore

/// A finished preference-training run in the form that ships (`[dpo-train] from`, data/checkpoints/reproduction/): only
/// the tensors the run changed from its base's starting weights, with the run's metric history and the digest of what it
/// was trained on in the metadata. A full adapter file is mostly the base's unchanged resampler; the shipped form of an
/// image-branch run is its `to_k_ip`/`to_v_ip` (0.46 MB against 2.2 MB), so every run of the reproduction fits in the
/// repository beside the pretrained models.
///
/// Importing overlays the shipped tensors on the base's starting weights and must give back the trained file bit for bit:
/// the record's `weightsSHA256` is the check, so a shipped run cannot be imported onto another base.
public enum ShippedRun {
    /// Metadata keys of the shipped file, removed when it is unpacked (the rest is the trained file's own metadata).
    public static let historyKey = "shipped.metric_history"
    public static let inputsKey = "shipped.inputs_digest"
    /// The file names in a shipped folder: `<stem>.shipped.safetensors` beside the run's record `<stem>.json`.
    public static func weightsName(_ run: DPORun) -> String { run.fileStem + ".shipped.safetensors" }
    public static func recordName(_ run: DPORun) -> String { run.fileStem + ".json" }

    /// A run's config (`AdapterRecord.config`, the section's canonical text) without the keys that choose which runs a
    /// stage makes (`losses`, `seeds`, `patchdpo_vits`): what must agree for a shipped run to be this stage's run.
    public static func runConfig(_ canonical: String) -> String {
        canonical.split(separator: "\n").filter { line in !["losses", "seeds", "patchdpo_vits"].contains { line.hasPrefix($0 + " = ") } }
            .joined(separator: "\n")
    }

    /// The shipped form of `trained` (a run's weights file): the tensors whose shape or bits differ from `initial`'s,
    /// `trained`'s metadata, the metric history and the inputs' digest.
    public static func pack(trained: SafeTensorsFile, initial: SafeTensorsFile, history: [MetricHistory.Point],
                            inputsDigest: String) -> SafeTensorsFile {
        var out = SafeTensorsFile(metadata: trained.metadata)
        for (key, t) in trained.tensors where !sameBits(initial.tensors[key], t) { out.tensors[key] = t }
        out.metadata[historyKey] = MetricHistory.encode(history)
        out.metadata[inputsKey] = inputsDigest
        return out
    }

    /// Whether `a` is `b` bit for bit (0 and -0 differ, a NaN equals itself).
    static func sameBits(_ a: TensorData?, _ b: TensorData) -> Bool {
        guard let a, a.shape == b.shape, a.dtype == b.dtype, a.values.count == b.values.count else { return false }
        return a.values.withUnsafeBytes { x in b.values.withUnsafeBytes { y in x.elementsEqual(y) } }
    }

    /// The trained file's bytes and metric history from `shipped` (read from `path`) on `initial`, refused unless
    /// `inputsDigest` is the one the run was trained on and the rebuilt bytes hash to `record.weightsSHA256`.
    public static func unpack(_ shipped: SafeTensorsFile, path: String, record: AdapterRecord, initial: SafeTensorsFile,
                              inputsDigest: String) throws -> (weights: Data, history: [MetricHistory.Point]) {
        guard let digest = shipped.metadata[inputsKey], let text = shipped.metadata[historyKey] else {
            throw ShippedRunError.notShipped(path: path)
        }
        guard digest == inputsDigest else { throw ShippedRunError.otherInputs(path: path, shipped: digest, here: inputsDigest) }
        var full = initial
        full.metadata = shipped.metadata
        full.metadata[historyKey] = nil
        full.metadata[inputsKey] = nil
        for (key, t) in shipped.tensors {
            guard let base = initial.tensors[key] else { throw ShippedRunError.unknownTensor(path: path, key: key) }
            guard base.shape == t.shape else { throw ShippedRunError.unknownTensor(path: path, key: key + " \(t.shape) (base \(base.shape))") }
            full.tensors[key] = t
        }
        let data = SafeTensors.encode(full)
        guard SHA256.hex(data) == record.weightsSHA256 else { throw ShippedRunError.otherBase(path: path) }
        return (data, try MetricHistory.decode(text, path: path))
    }

    /// What a run trains on, as one SHA-256: its encoded pairs (every tensor's bits, with their keys, in order) and the
    /// `(name, SHA-256)` of the frozen models it reads. Two runs with the same digest saw the same data.
    public static func inputsDigest(pairs: [EncodedPair], models: [(name: String, sha256: String)]) -> String {
        var h = SHA256()
        func add(_ s: String) { h.update(Array(s.utf8) + [0]) }
        func add(_ t: Tensor?) {
            guard let t else { add("-"); return }
            add(t.shape.map(String.init).joined(separator: ","))
            t.scalars.withUnsafeBytes { h.update($0) }
        }
        for m in models.sorted(by: { $0.name < $1.name }) { add(m.name); add(m.sha256) }
        for p in pairs {
            add(p.key)
            for t in [p.first, p.second, p.text, p.image] { add(t) }
            for t in [p.qr, p.qg, p.reference, p.foreground, p.referenceText] { add(t) }
        }
        return h.finalizeHex()
    }
}

/// A shipped run that cannot be imported; each names the file and says what to do. All are bad data (65); `otherInputs`
/// only tells `RunTrainer.importShipped` to train the run instead.
public enum ShippedRunError: Error, CustomStringConvertible, Equatable {
    case notShipped(path: String)
    case otherInputs(path: String, shipped: String, here: String)
    case unknownTensor(path: String, key: String)
    case otherBase(path: String)

    static let retrain = "hint: train the run here instead (--set 'from=\"\"'), or ship it again from a run on these inputs"

    public var description: String {
        switch self {
        case .notShipped(let path):
            return "dpo-train: \(path) has no `\(ShippedRun.historyKey)` and `\(ShippedRun.inputsKey)` metadata: it is not a shipped run "
                + "(dpo-train writes them as <run>.shipped.safetensors); \(Self.retrain)"
        case let .otherInputs(path, shipped, here):
            return "dpo-train: \(path) was trained on other inputs (digest \(shipped.prefix(12)), here \(here.prefix(12))): the pairs, "
                + "quality maps or frozen models of this run differ in some bit, so it is another run"
        case let .unknownTensor(path, key):
            return "dpo-train: \(path): tensor \(key) is not among the base's weights; \(Self.retrain)"
        case .otherBase(let path):
            return "dpo-train: \(path) on this run's base does not give the weights its record's weightsSHA256 names (another "
                + "base adapter, or an edited file); \(Self.retrain)"
        }
    }
}

extension ShippedRunError: ClassifiedError {
    public var errorKind: ErrorKind { .badData }
}
