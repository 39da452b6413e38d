import ErrorKinds

/// Bad input to the patch-quality library and its stages. Each case names the file or field and
/// says what to do next.
public enum PatchQualityError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A ViT checkpoint whose tensors do not describe a ViT (missing key, inconsistent shapes).
    case badViTCheckpoint(path: String, detail: String)
    /// A training checkpoint that belongs to another run (other data or schedule).
    case checkpointMismatch(path: String, detail: String)
    /// A pairs file that cannot be read as the contract's `patchdpo-pairs.json`.
    case badPairs(path: String, detail: String)
    /// A config value the stage cannot use.
    case badConfig(key: String, detail: String)
    /// No images to train or evaluate on.
    case noData(what: String, hint: String)

    public var description: String {
        switch self {
        case let .badViTCheckpoint(path, detail):
            return "\(path): not a usable ViT checkpoint (\(detail)); hint: rerun pretrain-vit, or check that the file holds timm ViT keys"
        case let .checkpointMismatch(path, detail):
            return "\(path): training checkpoint belongs to another run (\(detail)); hint: rerun with --force to start over"
        case let .badPairs(path, detail):
            return "\(path): cannot read the pairs (\(detail)); hint: rerun score-and-pair, which writes patchdpo-pairs.json"
        case let .badConfig(key, detail):
            return "config key `\(key)`: \(detail); hint: fix it in the pipeline config or with --set \(key)=..."
        case let .noData(what, hint):
            return "no \(what); hint: \(hint)"
        }
    }
}

extension PatchQualityError: ClassifiedError {
    /// No images to work on means upstream produced nothing usable (missing input); the rest is bad data.
    public var errorKind: ErrorKind {
        switch self {
        case .noData: return .missingInput
        case .badViTCheckpoint, .checkpointMismatch, .badPairs, .badConfig: return .badData
        }
    }
}
