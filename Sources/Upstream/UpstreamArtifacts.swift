import Foundation
import Manifest
import Pretrained
import StageKit

/// What a stage reads of its upstream stages' outputs: the newest finished stage run of each (listed once
/// per stage), files found by name and read verified against the manifest (size and SHA-256).
///
/// Errors: an upstream stage that never ran here is `StageError.upstreamMissing`, an artifact it did not
/// produce `StageError.missingFile` naming the stage that should have (both exit 66); a recorded file that
/// was edited or vanished `StageError.inputUnverified` (exit 65); a record that does not decode
/// `PretrainedError.badCheckpoint` naming the file (65).
public final class UpstreamArtifacts: UpstreamReading {
    public let runner: StageRunner
    private var listed: [String: [ArtifactRecord]] = [:]

    public init(runner: StageRunner) { self.runner = runner }

    /// The newest finished outputs of upstream stage `stage` (`StageRunner.upstreamOutputs`).
    public func outputs(_ stage: String) throws -> [ArtifactRecord] {
        if let o = listed[stage] { return o }
        let o = try runner.upstreamOutputs(stage)
        listed[stage] = o
        return o
    }

    /// The outputs of `stages`, plus pretrain-vae's when they include pretrain-unet and its record names an
    /// autoencoder (a latent U-Net): what a stage that reads the generator consumes, for its fingerprint and lineage.
    public func inputs(_ stages: [String]) throws -> [ArtifactRecord] {
        let declared = try stages.flatMap { try outputs($0) }
        guard stages.contains("pretrain-unet"), !stages.contains("pretrain-vae"),
              try pretrainRecord("unet.json", of: "pretrain-unet").vae != nil else { return declared }
        return declared + (try outputs("pretrain-vae"))
    }

    /// The artifact of `stage` whose file name (last path component) is `name`, if it recorded one.
    public func artifactIfPresent(_ name: String, of stage: String) throws -> ArtifactRecord? {
        try outputs(stage).first { ($0.relativePath as NSString).lastPathComponent == name }
    }

    /// The artifact of `stage` named `name`; missing: `StageError.missingFile` naming the stage.
    public func artifact(_ name: String, of stage: String) throws -> ArtifactRecord {
        guard let a = try artifactIfPresent(name, of: stage) else {
            throw StageError.missingFile(
                path: runner.layout.artifacts(stage).appendingPathComponent(name).path,
                hint: "stage \(stage) should have produced \(name); rerun it (`\(StageCommand.of(stage)) --force`)")
        }
        return a
    }

    /// The artifact of `stage` at run-relative `path`; missing: `StageError.missingFile` naming the file, with `hint`.
    public func artifact(at path: String, of stage: String, hint: String) throws -> ArtifactRecord {
        guard let a = try outputs(stage).first(where: { $0.relativePath == path }) else {
            throw StageError.missingFile(path: runner.layout.root.appendingPathComponent(path).path, hint: hint)
        }
        return a
    }

    /// The file of an artifact.
    public func url(_ a: ArtifactRecord) -> URL { runner.layout.root.appendingPathComponent(a.relativePath) }

    /// The bytes of artifact `a` of `stage`, refused unless they match the manifest's record.
    /// (`data(_:of:)` by name and `file(_:of:)` come with `UpstreamReading`.)
    public func data(_ a: ArtifactRecord, of stage: String) throws -> Data { try runner.readVerified(a, upstream: stage) }

    /// The pretraining record `name` (e.g. `unet.json`) of `stage`.
    public func pretrainRecord(_ name: String, of stage: String) throws -> PretrainRecord {
        let a = try artifact(name, of: stage)
        return try PretrainRecord.decode(try data(a, of: stage), path: url(a))
    }

    /// The weights `<base>.safetensors` and record `<base>.json` of `stage`, both verified.
    public func record(_ base: String, of stage: String) throws -> (weights: URL, record: PretrainRecord) {
        let w = try file("\(base).safetensors", of: stage)
        return (w, try pretrainRecord("\(base).json", of: stage))
    }
}
