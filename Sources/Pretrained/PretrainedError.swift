import ErrorKinds

/// Problems with a pretrained model's files (a record or its weights); each names the file.
public enum PretrainedError: Error, CustomStringConvertible, Equatable {
    case badCheckpoint(path: String, reason: String)
    /// A checkpoint or record file that is not there.
    case missingCheckpoint(path: String)

    public var description: String {
        switch self {
        case let .badCheckpoint(p, r): return "\(p): \(r); hint: rerun the pretrain stage that writes it (make pretrain)"
        case let .missingCheckpoint(p):
            return "\(p): missing; hint: point at a checkpoint directory holding the model's .safetensors + .json (data/checkpoints: "
                + "clip, unet, adapter; jedi from `pretrain jedi`), or rerun the pretrain stage that writes it (make pretrain)"
        }
    }
}

extension PretrainedError: ClassifiedError {
    /// A checkpoint that is not there is missing input; a damaged one (bad record, weights that differ from
    /// their record's SHA-256 or do not load strictly) is bad data.
    public var errorKind: ErrorKind {
        switch self {
        case .missingCheckpoint: return .missingInput
        case .badCheckpoint: return .badData
        }
    }
}
