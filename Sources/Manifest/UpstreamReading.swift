import Foundation

/// Reading what upstream stages recorded, each file verified against its manifest record. Libraries that
/// read upstream outputs (PreferenceTraining, BenchKit) take one of these and so never see the stage machinery:
/// a stage passes Upstream's `UpstreamArtifacts`, a test a fixture. The errors are the reader's (a stage's
/// name the stage that should have produced a missing file, or the file that fails verification).
public protocol UpstreamReading: AnyObject {
    /// The newest finished outputs of upstream stage `stage`.
    func outputs(_ stage: String) throws -> [ArtifactRecord]
    /// The artifact of `stage` whose file name (last path component) is `name`; an error naming the stage when missing.
    func artifact(_ name: String, of stage: String) throws -> ArtifactRecord
    /// The artifact of `stage` at run-relative `path`; an error naming the path, with `hint`, when missing.
    func artifact(at path: String, of stage: String, hint: String) throws -> ArtifactRecord
    /// The bytes of artifact `a` of `stage`, refused unless they match its record.
    func data(_ a: ArtifactRecord, of stage: String) throws -> Data
    /// The file of an artifact.
    func url(_ a: ArtifactRecord) -> URL
}

extension UpstreamReading {
    /// The verified bytes of artifact `name` of `stage`.
    public func data(_ name: String, of stage: String) throws -> Data { try data(try artifact(name, of: stage), of: stage) }

    /// The file of artifact `name` of `stage`, after verifying it (for readers that take a URL).
    public func file(_ name: String, of stage: String) throws -> URL {
        let a = try artifact(name, of: stage)
        _ = try data(a, of: stage)
        return url(a)
    }
}
