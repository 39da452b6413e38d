import ErrorKinds

/// Everything that can be wrong with a checkpoint file, naming the file and the key.
public enum CheckpointError: Error, CustomStringConvertible, Equatable, Sendable {
    case unreadable(path: String, reason: String)
    case truncated(path: String, size: Int)
    case headerBeyondFile(path: String, headerLength: UInt64, fileSize: Int)
    case badJSON(path: String, detail: String)
    /// The header repeats a key within one object (`key` is its dotted path, e.g. `w` or `w.dtype`).
    case duplicateKey(path: String, key: String)
    case unknownDType(path: String, key: String, dtype: String)
    case badEntry(path: String, key: String, detail: String)
    case byteCountMismatch(path: String, key: String, shape: [Int], dtype: String, expected: Int, found: Int)
    /// prod(shape) x element size overflows 64-bit integers.
    case shapeOverflow(path: String, key: String, shape: [Int], dtype: String)
    case offsetsOutOfRange(path: String, key: String, begin: Int, end: Int, bufferSize: Int)
    case overlap(path: String, key: String, other: String)
    case gap(path: String, before: String, at: Int, bufferSize: Int)
    case missingKey(path: String, key: String, expectedShape: [Int])
    case unexpectedKey(path: String, key: String, shape: [Int])
    case shapeMismatch(path: String, key: String, expected: [Int], found: [Int])
    case badMetadata(path: String, key: String, detail: String)
    case writeFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason):
            return "\(path): cannot read (\(reason)); check the path, or rerun the stage that writes it"
        case let .truncated(path, size):
            return "\(path): truncated safetensors file (\(size) bytes, need at least 8 for the header length); the writer was probably interrupted, rerun it"
        case let .headerBeyondFile(path, n, size):
            return "\(path): header length \(n) goes beyond the file (\(size) bytes); the file is truncated or not safetensors"
        case let .badJSON(path, detail):
            return "\(path): header is not valid safetensors JSON: \(detail)"
        case let .duplicateKey(path, key):
            return "\(path): header names '\(key)' twice, and JSON readers keep only one of them; the file is corrupt or was "
                + "written by a broken writer: re-export it (the Python safetensors package writes each key once)"
        case let .unknownDType(path, key, dtype):
            return "\(path): tensor '\(key)' has dtype \(dtype); supported: F32, F16, BF16 (convert it with the Python safetensors package)"
        case let .badEntry(path, key, detail):
            return "\(path): tensor '\(key)': \(detail)"
        case let .byteCountMismatch(path, key, shape, dtype, expected, found):
            return "\(path): tensor '\(key)' shape \(shape) \(dtype) needs \(expected) bytes but its data_offsets span \(found)"
        case let .shapeOverflow(path, key, shape, dtype):
            return "\(path): tensor '\(key)' shape \(shape) \(dtype) claims more bytes than a 64-bit count holds; the header is corrupt"
        case let .offsetsOutOfRange(path, key, begin, end, size):
            return "\(path): tensor '\(key)' data_offsets [\(begin), \(end)] outside the data buffer of \(size) bytes; the file is truncated or corrupt"
        case let .overlap(path, key, other):
            return "\(path): tensors '\(other)' and '\(key)' overlap in the data buffer; the file is corrupt"
        case let .gap(path, before, at, size):
            return "\(path): data buffer (\(size) bytes) not covered: bytes from \(at) are unused (before '\(before)'); the file is corrupt"
        case let .missingKey(path, key, shape):
            return "\(path): missing tensor '\(key)' (expected shape \(shape)); was the checkpoint written by another model config?"
        case let .unexpectedKey(path, key, shape):
            return "\(path): unexpected tensor '\(key)' (shape \(shape)); the model has no such parameter, check the model config"
        case let .shapeMismatch(path, key, expected, found):
            return "\(path): tensor '\(key)' has shape \(found) but the model expects \(expected); check the model config"
        case let .badMetadata(path, key, detail):
            return "\(path): metadata '\(key)': \(detail)"
        case let .writeFailed(path, reason):
            return "\(path): write failed (\(reason)); check free space and permissions"
        }
    }
}

extension CheckpointError: ClassifiedError {
    /// An unreadable file is missing input, a failed write an I/O failure; every other case is a file
    /// that breaks the safetensors rules or does not fit the model (bad data).
    public var errorKind: ErrorKind {
        switch self {
        case .unreadable: return .missingInput
        case .writeFailed: return .io
        case .truncated, .headerBeyondFile, .badJSON, .duplicateKey, .unknownDType, .badEntry, .byteCountMismatch,
             .shapeOverflow, .offsetsOutOfRange, .overlap, .gap, .missingKey, .unexpectedKey, .shapeMismatch, .badMetadata:
            return .badData
        }
    }
}
