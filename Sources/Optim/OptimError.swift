import Checkpoint
import ErrorKinds

/// Problems with saved optimizer or training state, naming the file and the key.
public enum OptimError: Error, CustomStringConvertible, Equatable, Sendable {
    case checkpoint(CheckpointError)
    case badState(path: String, key: String, detail: String)
    case incompleteCheckpoint(directory: String, missing: String)
    case sizeMismatch(path: String, file: String, expected: Int, found: Int)

    public var description: String {
        switch self {
        case let .checkpoint(e):
            return e.description
        case let .badState(path, key, detail):
            return "\(path): '\(key)': \(detail)"
        case let .incompleteCheckpoint(dir, missing):
            return "\(dir): incomplete training checkpoint (no \(missing)); the writer stopped before finishing, resume from the previous checkpoint"
        case let .sizeMismatch(path, file, expected, found):
            return "\(path): \(file) has \(found) bytes but the index records \(expected); the checkpoint was modified or damaged, resume from the previous one"
        }
    }
}

extension OptimError: ClassifiedError {
    /// A wrapped checkpoint error keeps its kind; a damaged or incomplete training state is bad data.
    public var errorKind: ErrorKind {
        switch self {
        case let .checkpoint(e): return e.errorKind
        case .badState, .incompleteCheckpoint, .sizeMismatch: return .badData
        }
    }
}
