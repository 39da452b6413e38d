import ErrorKinds

/// Errors of the world library: bad render requests, inapplicable defects, and malformed
/// data-set folders (HPatches, DreamBench). Each names the path or field and the fix.
public enum WorldError: Error, CustomStringConvertible, Equatable, Sendable {
    case badResolution(width: Int, height: Int)
    case badSupersample(Int)
    case defectNotApplicable(defect: String, subject: String, reason: String)
    case badSetSize(Int)
    case missingFile(path: String, hint: String)
    case badHomography(path: String, reason: String)
    case badDataset(path: String, reason: String, hint: String)

    public var description: String {
        switch self {
        case let .badResolution(w, h):
            return "render size \(w)x\(h): width and height must be positive multiples of 16 (e.g. 32, 64)."
        case let .badSupersample(n):
            return "supersample \(n): use 1...4 samples per axis (2 is the default)."
        case let .defectNotApplicable(defect, subject, reason):
            return "defect \(defect) does not apply to \(subject): \(reason). Pick another defect (see Defect.applicable(to:))."
        case let .badSetSize(n):
            return "same-subject set of \(n) images: use \(SameSubjectSet.sizes.lowerBound)...\(SameSubjectSet.sizes.upperBound)."
        case let .missingFile(path, hint):
            return "missing \(path). \(hint)"
        case let .badHomography(path, reason):
            return "\(path): \(reason). An HPatches homography file holds 9 numbers (3 rows of 3)."
        case let .badDataset(path, reason, hint):
            return "\(path): \(reason). \(hint)"
        }
    }
}

extension WorldError: ClassifiedError {
    /// Missing HPatches files are missing input; everything else is a bad value or a malformed
    /// file (render sizes and set sizes come from configs and flags).
    public var errorKind: ErrorKind {
        switch self {
        case .missingFile: return .missingInput
        case .badResolution, .badSupersample, .defectNotApplicable, .badSetSize, .badHomography, .badDataset: return .badData
        }
    }
}
