import Checkpoint
import Foundation

/// Everything a training run needs to resume bit-for-bit: weights, optimizer state, RNG
/// state (any Codable, e.g. `Random.RandomStream`), the step, and optional extra tensor
/// files (e.g. an EMA) and string metadata.
public struct TrainingState<RNG: Codable & Sendable>: Sendable {
    public var step: Int
    public var model: SafeTensorsFile
    public var optimizer: SafeTensorsFile
    public var rng: RNG
    /// Extra safetensors files by name (`ema` -> `ema.safetensors`); names are [a-z0-9_-].
    public var extraFiles: [String: SafeTensorsFile]
    public var metadata: [String: String]

    public init(step: Int, model: SafeTensorsFile, optimizer: SafeTensorsFile, rng: RNG,
                extraFiles: [String: SafeTensorsFile] = [:], metadata: [String: String] = [:]) {
        self.step = step
        self.model = model
        self.optimizer = optimizer
        self.rng = rng
        self.extraFiles = extraFiles
        self.metadata = metadata
    }
}

/// A training checkpoint is one directory, `<root>/step-<8 digits>/`, holding
/// `model.safetensors`, `optimizer.safetensors`, `rng.json`, extra files, and `index.json`.
/// Each file is written atomically; `index.json` (step, file names and byte sizes) is
/// written last, so a directory without it is an interrupted save and is never loaded.
public enum TrainingCheckpoint {
    public static let indexName = "index.json"
    static let format = "patchdpo-training-state-1"

    struct Index: Codable {
        var format: String
        var step: Int
        /// File name -> byte size.
        var files: [String: Int]
        var extraFiles: [String]
        var metadata: [String: String]
    }

    /// The directory of the checkpoint of `step` under `root`.
    public static func directory(root: URL, step: Int) -> URL {
        root.appendingPathComponent("step-" + String(format: "%08d", step))
    }

    /// Writes `state` to `directory(root:step:)` and returns that directory.
    @discardableResult
    public static func save<RNG>(_ state: TrainingState<RNG>, root: URL) throws(OptimError) -> URL {
        let dir = directory(root: root, step: state.step)
        do {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        } catch {
            throw .checkpoint(.writeFailed(path: dir.path, reason: "cannot create directory: \(error.localizedDescription)"))
        }
        let indexURL = dir.appendingPathComponent(indexName)
        do {
            // An older index must not vouch for files about to be replaced.
            if FileManager.default.fileExists(atPath: indexURL.path) {
                try FileManager.default.removeItem(at: indexURL)
                try AtomicFile.syncDirectory(dir.path)
            }
            var files: [String: Data] = [
                "model.safetensors": SafeTensors.encode(state.model),
                "optimizer.safetensors": SafeTensors.encode(state.optimizer),
                "rng.json": try JSONEncoder.sorted.encode(state.rng),
            ]
            for (name, file) in state.extraFiles {
                precondition(name.allSatisfy { $0.isLowercase || $0.isNumber || $0 == "_" || $0 == "-" } && !name.isEmpty,
                             "TrainingCheckpoint: extra file name '\(name)' must be [a-z0-9_-]+")
                files[name + ".safetensors"] = SafeTensors.encode(file)
            }
            for (name, data) in files.sorted(by: { $0.key < $1.key }) {
                try AtomicFile.write(data, to: dir.appendingPathComponent(name))
            }
            let index = Index(format: format, step: state.step, files: files.mapValues(\.count),
                              extraFiles: state.extraFiles.keys.sorted(), metadata: state.metadata)
            try AtomicFile.write(try JSONEncoder.sorted.encode(index), to: indexURL)
        } catch let error as CheckpointError {
            throw .checkpoint(error)
        } catch let error as OptimError {
            throw error
        } catch {
            throw .checkpoint(.writeFailed(path: dir.path, reason: "\(error)"))
        }
        return dir
    }

    /// Loads the checkpoint in `dir`, checking the index and every file's size.
    public static func load<RNG>(_ dir: URL, rng: RNG.Type = RNG.self) throws(OptimError) -> TrainingState<RNG> {
        let indexURL = dir.appendingPathComponent(indexName)
        guard let indexData = try? Data(contentsOf: indexURL) else {
            throw .incompleteCheckpoint(directory: dir.path, missing: indexName)
        }
        guard let index = try? JSONDecoder().decode(Index.self, from: indexData), index.format == format else {
            throw .badState(path: indexURL.path, key: "format", detail: "not a \(format) index")
        }
        for (name, size) in index.files.sorted(by: { $0.key < $1.key }) {
            let path = dir.appendingPathComponent(name).path
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
                  let found = (attributes[.size] as? NSNumber)?.intValue else {
                throw .incompleteCheckpoint(directory: dir.path, missing: name)
            }
            if found != size { throw .sizeMismatch(path: path, file: name, expected: size, found: found) }
        }
        func tensors(_ name: String) throws(OptimError) -> SafeTensorsFile {
            do { return try SafeTensors.read(dir.appendingPathComponent(name)) } catch { throw .checkpoint(error) }
        }
        let rngURL = dir.appendingPathComponent("rng.json")
        let rngState: RNG
        do {
            rngState = try JSONDecoder().decode(RNG.self, from: Data(contentsOf: rngURL))
        } catch {
            throw .badState(path: rngURL.path, key: "rng", detail: "cannot decode \(RNG.self): \(error)")
        }
        var extras: [String: SafeTensorsFile] = [:]
        for name in index.extraFiles { extras[name] = try tensors(name + ".safetensors") }
        return TrainingState(step: index.step, model: try tensors("model.safetensors"),
                             optimizer: try tensors("optimizer.safetensors"), rng: rngState,
                             extraFiles: extras, metadata: index.metadata)
    }

    /// The complete checkpoint with the highest step under `root`, or nil if there is none
    /// (directories without `index.json` are interrupted saves and are ignored).
    public static func latest(in root: URL) -> URL? {
        completeSteps(in: root).last.map { directory(root: root, step: $0) }
    }

    /// The steps of the complete checkpoints under `root` (those with `index.json`), ascending; none when `root` is missing.
    public static func completeSteps(in root: URL) -> [Int] {
        completeSteps(of: stepDirectories(in: root))
    }

    static func completeSteps(of dirs: [(step: Int, url: URL)]) -> [Int] {
        dirs.filter { FileManager.default.fileExists(atPath: $0.url.appendingPathComponent(indexName).path) }.map(\.step)
    }

    /// Deletes every checkpoint directory under `root` older than the newest `n` complete ones (complete or not: an
    /// interrupted save older than a complete checkpoint is never resumed from). Each directory loses its index first, so
    /// a crash midway leaves an incomplete directory, never an index vouching for missing files.
    public static func prune(in root: URL, keepingNewest n: Int) throws {
        precondition(n >= 1, "TrainingCheckpoint.prune: keep at least one checkpoint")
        let dirs = stepDirectories(in: root)
        let complete = completeSteps(of: dirs)
        guard complete.count > n else { return }
        let oldestKept = complete[complete.count - n]
        for (step, url) in dirs where step < oldestKept {
            let index = url.appendingPathComponent(indexName)
            if FileManager.default.fileExists(atPath: index.path) {
                try FileManager.default.removeItem(at: index)
                try AtomicFile.syncDirectory(url.path)
            }
            try FileManager.default.removeItem(at: url)
        }
    }

    /// The `step-<digits>` directories under `root`, by ascending step.
    static func stepDirectories(in root: URL) -> [(step: Int, url: URL)] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: root.path) else { return [] }
        return names.compactMap { name -> (Int, URL)? in
            guard name.hasPrefix("step-"), let s = Int(name.dropFirst(5)) else { return nil }
            return (s, root.appendingPathComponent(name, isDirectory: true))
        }.sorted { $0.0 < $1.0 }
    }
}
