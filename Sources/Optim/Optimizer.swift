import Checkpoint
import Foundation

/// An optimizer over flat Float32 buffers keyed by parameter name. It knows nothing of
/// tensors or autograd: the caller hands it each parameter's values and gradient.
///
/// State is per parameter (like PyTorch's `optimizer.state[p]`), keyed by name, so it
/// saves to safetensors as `<name>.<buffer>` tensors plus hyperparameters in metadata.
public protocol Optimizer: Sendable {
    /// The learning rate used by the next update (set it from an `LRSchedule` each step).
    var learningRate: Double { get set }

    /// Updates one parameter in place. `parameter.count == gradient.count`, and equal to the
    /// count this name had on earlier updates.
    mutating func update(_ name: String, parameter: UnsafeMutableBufferPointer<Float>,
                         gradient: UnsafeBufferPointer<Float>)

    /// The state as a safetensors file (buffers as tensors, hyperparameters as metadata).
    func stateFile() -> SafeTensorsFile

    /// Restores state and hyperparameters written by `stateFile()`; `path` names the
    /// source in errors.
    mutating func loadState(_ file: SafeTensorsFile, path: String) throws(OptimError)
}

extension Optimizer {
    /// One step over named buffers, in sorted name order. Parameters without a gradient
    /// are skipped (PyTorch skips `p.grad is None`).
    public mutating func step(_ parameters: inout [String: [Float]], gradients: [String: [Float]]) {
        for name in gradients.keys.sorted() {
            precondition(parameters[name] != nil, "Optimizer.step: gradient for unknown parameter '\(name)'")
            let g = gradients[name]!
            precondition(parameters[name]!.count == g.count,
                         "Optimizer.step: '\(name)' has \(parameters[name]!.count) values but \(g.count) gradients")
            g.withUnsafeBufferPointer { gp in
                parameters[name]!.withUnsafeMutableBufferPointer { pp in
                    update(name, parameter: pp, gradient: gp)
                }
            }
        }
    }

    /// Writes the state atomically to a safetensors file.
    public func saveState(to url: URL) throws(OptimError) {
        do { try SafeTensors.write(stateFile(), to: url) } catch { throw .checkpoint(error) }
    }

    /// Reads state written by `saveState(to:)`.
    public mutating func loadState(from url: URL) throws(OptimError) {
        let file: SafeTensorsFile
        do { file = try SafeTensors.read(url) } catch { throw .checkpoint(error) }
        try loadState(file, path: url.path)
    }
}

/// Metadata helpers shared by the optimizers: numbers are stored with Swift's shortest
/// round-trip description, so `Double(String(x)) == x` exactly.
enum StateCoding {
    static func double(_ file: SafeTensorsFile, _ key: String, path: String) throws(OptimError) -> Double {
        guard let s = file.metadata[key], let v = Double(s) else {
            throw .badState(path: path, key: key, detail: "missing or not a number: \(file.metadata[key] ?? "<absent>")")
        }
        return v
    }

    static func int(_ file: SafeTensorsFile, _ key: String, path: String) throws(OptimError) -> Int {
        guard let s = file.metadata[key], let v = Int(s) else {
            throw .badState(path: path, key: key, detail: "missing or not an integer: \(file.metadata[key] ?? "<absent>")")
        }
        return v
    }

    static func expectKind(_ file: SafeTensorsFile, _ kind: String, path: String) throws(OptimError) {
        let found = file.metadata["optimizer"] ?? "<absent>"
        guard found == kind else {
            throw .badState(path: path, key: "optimizer",
                            detail: "state was written by \(found), loading into \(kind); use the same optimizer as the saved run")
        }
    }

    static func steps(_ steps: [String: Int]) -> String {
        let data = try! JSONEncoder.sorted.encode(steps)
        return String(decoding: data, as: UTF8.self)
    }

    static func steps(_ file: SafeTensorsFile, path: String) throws(OptimError) -> [String: Int] {
        guard let s = file.metadata["steps"],
              let v = try? JSONDecoder().decode([String: Int].self, from: Data(s.utf8)) else {
            throw .badState(path: path, key: "steps", detail: "missing or not a JSON object of integers")
        }
        return v
    }

    /// The buffer `<name>.<suffix>` as a flat array, or an error naming it.
    static func buffer(_ file: SafeTensorsFile, _ name: String, _ suffix: String, path: String) throws(OptimError) -> [Float] {
        guard let t = file.tensors["\(name).\(suffix)"] else {
            throw .badState(path: path, key: "\(name).\(suffix)", detail: "missing tensor")
        }
        return t.values
    }

    /// Every tensor must be one of `known`; anything else means a different model.
    static func rejectUnknown(_ file: SafeTensorsFile, known: Set<String>, path: String) throws(OptimError) {
        if let extra = file.tensors.keys.sorted().first(where: { !known.contains($0) }) {
            throw .badState(path: path, key: extra, detail: "tensor belongs to no parameter in the state's step table")
        }
    }
}

extension JSONEncoder {
    static var sorted: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }
}
