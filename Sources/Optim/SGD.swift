import Checkpoint
import Foundation

/// SGD with momentum, PyTorch semantics (`torch.optim.SGD`, single-tensor path):
/// ```
/// g <- g + wd * p                               (if wd != 0)
/// b <- g                                        first step (buffer absent)
/// b <- mu * b + (1 - dampening) * g             later steps
/// g <- nesterov ? g + mu * b : b                (if mu != 0)
/// p <- p - lr * g
/// ```
/// State: `<name>.momentum_buffer` once a momentum step has run.
public struct SGD: Optimizer, Equatable {
    // Doubles like torch's Python floats, cast to Float as each op's scalar.
    public var learningRate: Double
    public var momentum: Double
    public var dampening: Double
    public var weightDecay: Double
    public var nesterov: Bool

    /// Momentum buffers by parameter name.
    public private(set) var buffers: [String: [Float]] = [:]

    public init(learningRate: Double, momentum: Double = 0, dampening: Double = 0,
                weightDecay: Double = 0, nesterov: Bool = false) {
        precondition(!nesterov || (momentum > 0 && dampening == 0),
                     "SGD: Nesterov momentum requires momentum > 0 and zero dampening (got momentum \(momentum), dampening \(dampening))")
        self.learningRate = learningRate
        self.momentum = momentum
        self.dampening = dampening
        self.weightDecay = weightDecay
        self.nesterov = nesterov
    }

    public mutating func update(_ name: String, parameter p: UnsafeMutableBufferPointer<Float>,
                                gradient g: UnsafeBufferPointer<Float>) {
        let n = p.count
        precondition(g.count == n, "SGD '\(name)': parameter has \(n) values, gradient \(g.count)")
        let negLR = Float(-learningRate), wd = Float(weightDecay), mu = Float(momentum)
        let keep = Float(1 - dampening)
        var d = [Float](unsafeUninitializedCapacity: n) { buf, count in
            for i in 0..<n { buf[i] = wd != 0 ? g[i] + wd * p[i] : g[i] }
            count = n
        }
        if mu != 0 {
            if var b = buffers.removeValue(forKey: name) {
                precondition(b.count == n, "SGD '\(name)': momentum buffer holds \(b.count) values, parameter \(n)")
                for i in 0..<n { b[i] = b[i] * mu + keep * d[i] }
                buffers[name] = b
            } else {
                buffers[name] = d
            }
            let b = buffers[name]!
            for i in 0..<n { d[i] = nesterov ? d[i] + mu * b[i] : b[i] }
        }
        for i in 0..<n { p[i] = p[i] + negLR * d[i] }
    }

    public func stateFile() -> SafeTensorsFile {
        var file = SafeTensorsFile(metadata: [
            "optimizer": "SGD", "lr": "\(learningRate)", "momentum": "\(momentum)",
            "dampening": "\(dampening)", "weight_decay": "\(weightDecay)", "nesterov": "\(nesterov)",
            "steps": StateCoding.steps(buffers.mapValues { _ in 1 }),
        ])
        for (name, b) in buffers {
            file.tensors["\(name).momentum_buffer"] = TensorData(shape: [b.count], values: b)
        }
        return file
    }

    public mutating func loadState(_ file: SafeTensorsFile, path: String) throws(OptimError) {
        try StateCoding.expectKind(file, "SGD", path: path)
        let lr = try StateCoding.double(file, "lr", path: path)
        let mu = try StateCoding.double(file, "momentum", path: path)
        let damp = try StateCoding.double(file, "dampening", path: path)
        let wd = try StateCoding.double(file, "weight_decay", path: path)
        guard let nest = file.metadata["nesterov"].flatMap(Bool.init) else {
            throw .badState(path: path, key: "nesterov", detail: "missing or not true/false")
        }
        var loaded: [String: [Float]] = [:]
        for name in try StateCoding.steps(file, path: path).keys {
            loaded[name] = try StateCoding.buffer(file, name, "momentum_buffer", path: path)
        }
        try StateCoding.rejectUnknown(file, known: Set(loaded.keys.map { "\($0).momentum_buffer" }), path: path)
        (learningRate, momentum, dampening, weightDecay, nesterov, buffers) = (lr, mu, damp, wd, nest, loaded)
    }
}
