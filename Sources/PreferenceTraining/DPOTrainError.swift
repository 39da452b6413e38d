import ErrorKinds

/// Problems with preference training's own inputs (pairs, pool images, quality maps); each names the file or
/// key and the stage that should fix it. Missing or edited upstream artifacts and bad pretraining records are
/// the upstream reader's and Generation's errors (exit 66 and 65).
public enum DPOTrainError: Error, CustomStringConvertible, Equatable {
    case badPairs(path: String, detail: String)
    case missingQualityMap(key: String, hint: String)
    case badImage(path: String, detail: String)
    /// A checkpoint's metadata value `key` does not parse (at `line` of it).
    case badCheckpointMetadata(path: String, key: String, line: Int)

    public var description: String {
        switch self {
        case let .badPairs(path, detail):
            return "dpo-train: \(path): \(detail); hint: rerun score-and-pair"
        case let .missingQualityMap(key, hint):
            return "dpo-train: no quality map for pair \(key); \(hint)"
        case let .badImage(path, detail):
            return "dpo-train: \(path): \(detail); hint: rerun generate-pool"
        case let .badCheckpointMetadata(path, key, line):
            return "dpo-train: \(path): metadata \(key), line \(line), is not <name><TAB><step><TAB><hex bits>; hint: delete this "
                + "checkpoint's folder, and the run resumes from an older one or starts over"
        }
    }
}

extension DPOTrainError: ClassifiedError {
    /// A quality map patch-quality did not produce is missing input (66); a pairs file or image that does
    /// not read as its contract is bad data (65).
    public var errorKind: ErrorKind {
        switch self {
        case .missingQualityMap: return .missingInput
        case .badPairs, .badImage, .badCheckpointMetadata: return .badData
        }
    }
}
