import Checkpoint
import Foundation

/// AdamW with PyTorch semantics (`torch.optim.AdamW`, single-tensor path, no amsgrad).
///
/// Per parameter, with its own step count t (starting at 1):
/// ```
/// p  <- p * (1 - lr * wd)                      decoupled weight decay
/// m  <- m + (1 - b1) * (g - m)                 torch: exp_avg.lerp_(g, 1 - b1)
/// v  <- b2 * v + (1 - b2) * g * g
/// p  <- p - (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)     eps outside the sqrt
/// ```
/// Bias corrections are computed in Double (Python floats in torch), element maths in Float.
/// State per parameter: `<name>.exp_avg`, `<name>.exp_avg_sq`, and the step in metadata.
public struct AdamW: Optimizer, Equatable {
    // Hyperparameters are Doubles, like torch's Python floats; each is cast to Float
    // where torch casts it (as the scalar of a float32 tensor op).
    public var learningRate: Double
    public var beta1: Double
    public var beta2: Double
    public var eps: Double
    public var weightDecay: Double

    public struct State: Sendable, Equatable {
        public var step: Int
        public var expAvg: [Float]
        public var expAvgSq: [Float]
    }

    /// Per-parameter state by name.
    public private(set) var state: [String: State] = [:]

    public init(learningRate: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999,
                eps: Double = 1e-8, weightDecay: Double = 1e-2) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.weightDecay = weightDecay
    }

    public mutating func update(_ name: String, parameter p: UnsafeMutableBufferPointer<Float>,
                                gradient g: UnsafeBufferPointer<Float>) {
        let n = p.count
        precondition(g.count == n, "AdamW '\(name)': parameter has \(n) values, gradient \(g.count)")
        var s = state.removeValue(forKey: name)
            ?? State(step: 0, expAvg: [Float](repeating: 0, count: n), expAvgSq: [Float](repeating: 0, count: n))
        precondition(s.expAvg.count == n, "AdamW '\(name)': state holds \(s.expAvg.count) values, parameter \(n)")
        s.step += 1
        let lr = learningRate
        let decay = Float(1 - lr * weightDecay)
        let weight = 1 - beta1                      // lerp weight
        let w = Float(weight), oneMinusW = Float(1 - weight)
        let b2 = Float(beta2), oneMinusB2 = Float(1 - beta2)
        let bc1 = 1 - pow(beta1, Double(s.step))
        let bc2 = 1 - pow(beta2, Double(s.step))
        let negStepSize = Float(-(lr / bc1))
        let bc2Sqrt = Float(bc2.squareRoot())
        let eps = Float(self.eps)
        let lowWeight = abs(weight) < 0.5
        s.expAvg.withUnsafeMutableBufferPointer { m in
            s.expAvgSq.withUnsafeMutableBufferPointer { v in
                for i in 0..<n {
                    p[i] *= decay
                    // torch's lerp kernel: two forms, chosen by |weight| < 0.5.
                    m[i] = lowWeight ? m[i] + w * (g[i] - m[i]) : g[i] - (g[i] - m[i]) * oneMinusW
                    v[i] = v[i] * b2
                    v[i] = v[i] + oneMinusB2 * g[i] * g[i]
                    let denom = v[i].squareRoot() / bc2Sqrt + eps
                    p[i] = p[i] + negStepSize * m[i] / denom
                }
            }
        }
        state[name] = s
    }

    public func stateFile() -> SafeTensorsFile {
        var file = SafeTensorsFile(metadata: [
            "optimizer": "AdamW", "lr": "\(learningRate)", "beta1": "\(beta1)", "beta2": "\(beta2)",
            "eps": "\(eps)", "weight_decay": "\(weightDecay)",
            "steps": StateCoding.steps(state.mapValues(\.step)),
        ])
        for (name, s) in state {
            file.tensors["\(name).exp_avg"] = TensorData(shape: [s.expAvg.count], values: s.expAvg)
            file.tensors["\(name).exp_avg_sq"] = TensorData(shape: [s.expAvgSq.count], values: s.expAvgSq)
        }
        return file
    }

    public mutating func loadState(_ file: SafeTensorsFile, path: String) throws(OptimError) {
        try StateCoding.expectKind(file, "AdamW", path: path)
        let lr = try StateCoding.double(file, "lr", path: path)
        let b1 = try StateCoding.double(file, "beta1", path: path)
        let b2 = try StateCoding.double(file, "beta2", path: path)
        let e = try StateCoding.double(file, "eps", path: path)
        let wd = try StateCoding.double(file, "weight_decay", path: path)
        var loaded: [String: State] = [:]
        var known = Set<String>()
        for (name, step) in try StateCoding.steps(file, path: path) {
            let m = try StateCoding.buffer(file, name, "exp_avg", path: path)
            let v = try StateCoding.buffer(file, name, "exp_avg_sq", path: path)
            guard m.count == v.count else {
                throw .badState(path: path, key: "\(name).exp_avg_sq", detail: "\(v.count) values but exp_avg has \(m.count)")
            }
            loaded[name] = State(step: step, expAvg: m, expAvgSq: v)
            known.formUnion(["\(name).exp_avg", "\(name).exp_avg_sq"])
        }
        try StateCoding.rejectUnknown(file, known: known, path: path)
        (learningRate, beta1, beta2, eps, weightDecay, state) = (lr, b1, b2, e, wd, loaded)
    }
}
