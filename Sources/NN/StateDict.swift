import Autograd
import Checkpoint
import Foundation
import TensorCore

/// Moving a module's parameters to and from safetensors, by PyTorch key, strictly.
extension Module {
    /// Every parameter as `key -> TensorData` (F32), like `module.state_dict()`.
    public func stateDict() -> SafeTensorsFile {
        var file = SafeTensorsFile()
        for (key, p) in namedParameters() {
            precondition(file.tensors[key] == nil, "stateDict: duplicate parameter key '\(key)' in the module walk")
            file.tensors[key] = TensorData(shape: p.shape, values: p.value.scalars)
        }
        return file
    }

    /// Expected key -> shape of this module.
    public func parameterShapes() -> [String: [Int]] {
        Dictionary(namedParameters().map { ($0.0, $0.1.shape) }, uniquingKeysWith: { a, _ in a })
    }

    /// Loads every parameter from `file`. Strict like nanoGPT's `from_pretrained`: a missing key,
    /// an unexpected key or a wrong shape throws a `CheckpointError` naming the key (and both
    /// shapes); nothing is modified unless every check passes. `path` names the source in errors.
    public func loadStrict(_ file: SafeTensorsFile, path: String) throws(CheckpointError) {
        try file.checkStrict(expected: parameterShapes(), path: path)
        for (key, p) in namedParameters() {
            let t = file.tensors[key]!
            p.value = Tensor(shape: t.shape, scalars: t.values)
        }
    }

    /// Writes `stateDict()` atomically to a safetensors file (F32), with optional metadata.
    public func save(to url: URL, metadata: [String: String] = [:]) throws(CheckpointError) {
        var file = stateDict()
        file.metadata = metadata
        try SafeTensors.write(file, to: url)
    }

    /// Reads a safetensors file and `loadStrict`s it; returns its metadata.
    @discardableResult
    public func load(from url: URL) throws(CheckpointError) -> [String: String] {
        let file = try SafeTensors.read(url)
        try loadStrict(file, path: url.path)
        return file.metadata
    }
}
