import ErrorKinds

/// Problems with a sampling request; each names the field. (A generator's files fail with Pretrained's
/// `PretrainedError`, naming the file.)
public enum GenerationError: Error, CustomStringConvertible, Equatable {
    case invalidOption(field: String, reason: String)
    case mismatch(field: String, reason: String)

    public var description: String {
        switch self {
        case let .invalidOption(f, r): return "sampling option \(f): \(r)"
        case let .mismatch(f, r): return "sampling input \(f): \(r)"
        }
    }
}

extension GenerationError: ClassifiedError {
    /// A bad option or a mismatched input is bad data.
    public var errorKind: ErrorKind {
        switch self {
        case .invalidOption, .mismatch: return .badData
        }
    }
}
