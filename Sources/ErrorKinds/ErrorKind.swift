/// What went wrong, in words every library can use without knowing how a program reports it.
///
/// Library error types conform to `ClassifiedError` and say which kind each case is; StageKit's
/// `StageExitCode.of` turns the kind into the one exit-code table of the README (65, 66, 74, 75, 70),
/// so an error exits with the same code whichever command meets it.
public enum ErrorKind: String, Sendable, Equatable, CaseIterable {
    /// Input that exists but is wrong: a bad config value, a corrupt or malformed file, a header
    /// that breaks its format's rules, a value out of range.
    case badData
    /// Input that is not there: a missing file or folder, an output an upstream step has not produced.
    case missingInput
    /// The environment refused an operation on a file: cannot create or write, disk full, permissions.
    case io
    /// A shared resource is held by another process; retrying later may succeed.
    case busy
    /// The program broke its own contract (a bug): nothing the user's data or files can fix.
    case internalError
}

/// An error that says which `ErrorKind` it is. Conform a library's error enum with one `switch`
/// over its cases, next to its definition, so a new case cannot be added without classifying it.
public protocol ClassifiedError: Error {
    var errorKind: ErrorKind { get }
}
