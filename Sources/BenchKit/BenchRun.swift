import Foundation
import Manifest

/// The stage run the bench works in, as its items need it: where the run lives, its manifest (the results item
/// reads the item records and the other stages' times from it), its config as text, its log.
public struct BenchRun {
    /// The pipeline run's name and seed.
    public var name: String
    public var seed: Int
    /// This stage's name.
    public var stage: String
    /// The run directory, and this stage's artifacts folder relative to it (e.g. `artifacts/bench`).
    public var root: URL
    public var artifacts: String
    public var db: ManifestDB
    /// Every key of the `[bench]` section as text (strings bare, other values canonical TOML), for results.json.
    public var config: [String: String]
    public var info: (String) -> Void
    public var warn: (String) -> Void

    public init(name: String, seed: Int, stage: String, root: URL, artifacts: String, db: ManifestDB, config: [String: String],
                info: @escaping (String) -> Void, warn: @escaping (String) -> Void) {
        self.name = name; self.seed = seed; self.stage = stage; self.root = root; self.artifacts = artifacts; self.db = db
        self.config = config; self.info = info; self.warn = warn
    }

    /// The file at run-relative `path`.
    public func url(_ path: String) -> URL { root.appendingPathComponent(path) }
}

/// Writes an output of the item at hand (`name` under this stage's artifacts folder, of `kind`); the item loop
/// records what the item returns.
public typealias ArtifactWrite = (_ data: Data, _ name: String, _ kind: String) throws -> NewArtifact
