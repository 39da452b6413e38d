import ErrorKinds
import Foundation

/// Why the report could not be written. Each case names the file or field and the next step.
public enum ReportError: Error, CustomStringConvertible, Equatable {
    /// A value in BenchResults that cannot be reported (NaN score, negative count); `field` is its JSON path.
    case invalidValue(field: String, value: String, hint: String)
    /// The report directory or one of its files could not be written.
    case cannotWrite(path: String, reason: String)

    public var description: String {
        switch self {
        case .invalidValue(let field, let value, let hint):
            return "bench results: \(field) = \(value) is not valid; \(hint)"
        case .cannotWrite(let path, let reason):
            return "report: cannot write \(path): \(reason); check the directory exists and is writable (disk full?)"
        }
    }
}

extension ReportError: ClassifiedError {
    /// An unreportable value is bad data; a report file that cannot be written an I/O failure.
    public var errorKind: ErrorKind {
        switch self {
        case .invalidValue: return .badData
        case .cannotWrite: return .io
        }
    }
}
