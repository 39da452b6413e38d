import ErrorKinds

/// Problems with a sampling request or a generator's files; each names the field or file.
public enum GenerationError: Error, CustomStringConvertible, Equatable {
    case invalidOption(field: String, reason: String)
    case mismatch(field: String, reason: String)
    case badCheckpoint(path: String, reason: String)
    /// A checkpoint or record file that is not there.
    case missingCheckpoint(path: String)

    public var description: String {
        switch self {
        case let .invalidOption(f, r): return "sampling option \(f): \(r)"
        case let .mismatch(f, r): return "sampling input \(f): \(r)"
        case let .badCheckpoint(p, r): return "\(p): \(r); hint: rerun the pretrain stage that writes it (make pretrain)"
        case let .missingCheckpoint(p):
            return "\(p): missing; hint: point at a checkpoint directory holding clip, unet and adapter .safetensors + .json "
                + "(data/checkpoints), or rerun the pretrain stage that writes it (make pretrain)"
        }
    }
}

extension GenerationError: ClassifiedError {
    /// A checkpoint that is not there is missing input; a bad option, a mismatched input or a damaged
    /// checkpoint is bad data.
    public var errorKind: ErrorKind {
        switch self {
        case .missingCheckpoint: return .missingInput
        case .invalidOption, .mismatch, .badCheckpoint: return .badData
        }
    }
}
