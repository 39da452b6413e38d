import Checkpoint
import Foundation

/// Exponential moving average of weights (as diffusers' `EMAModel`):
/// ```
/// shadow <- shadow - (1 - d) * (shadow - p),   d = min(decay, (1 + t) / (10 + t)) with warmup,
///                                              d = decay without; t = updates so far
/// ```
/// The first update of a name copies the parameter. Saves as a safetensors file whose
/// tensors are the shadow weights under the parameter names (loadable as a model).
public struct EMA: Sendable, Equatable {
    public var decay: Double
    public var warmup: Bool
    /// Completed `step` calls.
    public private(set) var updates: Int = 0
    public private(set) var shadow: [String: [Float]] = [:]

    public init(decay: Double = 0.999, warmup: Bool = false) {
        self.decay = decay
        self.warmup = warmup
    }

    /// The decay the next `step` uses.
    public var currentDecay: Double {
        warmup ? min(decay, Double(1 + updates) / Double(10 + updates)) : decay
    }

    /// Folds the current weights into the average.
    public mutating func step(_ parameters: [String: [Float]]) {
        let rate = Float(1 - currentDecay)
        for (name, p) in parameters {
            guard var s = shadow.removeValue(forKey: name) else {
                shadow[name] = p
                continue
            }
            precondition(s.count == p.count, "EMA '\(name)': shadow holds \(s.count) values, parameter \(p.count)")
            for i in 0..<p.count { s[i] = s[i] - rate * (s[i] - p[i]) }
            shadow[name] = s
        }
        updates += 1
    }

    /// Shadow weights as tensors with the given shapes (flat when a name is absent).
    public func stateFile(shapes: [String: [Int]] = [:]) -> SafeTensorsFile {
        var file = SafeTensorsFile(metadata: ["ema_decay": "\(decay)", "ema_warmup": "\(warmup)", "ema_updates": "\(updates)"])
        for (name, s) in shadow {
            file.tensors[name] = TensorData(shape: shapes[name] ?? [s.count], values: s)
        }
        return file
    }

    public mutating func loadState(_ file: SafeTensorsFile, path: String) throws(OptimError) {
        let d = try StateCoding.double(file, "ema_decay", path: path)
        let u = try StateCoding.int(file, "ema_updates", path: path)
        guard let w = file.metadata["ema_warmup"].flatMap(Bool.init) else {
            throw .badState(path: path, key: "ema_warmup", detail: "missing or not true/false")
        }
        (decay, warmup, updates, shadow) = (d, w, u, file.tensors.mapValues(\.values))
    }
}
