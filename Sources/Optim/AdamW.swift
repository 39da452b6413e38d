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
        // One element's update, written once for 16 lanes and for the scalar tail. Every operation is IEEE and
        // lane-wise (no fused multiply-add), so the lanes give the scalar loop's bits.
        @inline(__always) func update<L: AdamWLanes>(_: L.Type, _ p: UnsafeMutablePointer<Float>, _ m: UnsafeMutablePointer<Float>,
                                                      _ v: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>) {
            let gi = L(loading: g)
            let pi = L(loading: p) * L(decay)
            var mi = L(loading: m)
            // torch's lerp kernel: two forms, chosen by |weight| < 0.5.
            mi = lowWeight ? mi + L(w) * (gi - mi) : gi - (gi - mi) * L(oneMinusW)
            var vi = L(loading: v) * L(b2)
            vi = vi + L(oneMinusB2) * gi * gi
            let denom = vi.squareRoot() / L(bc2Sqrt) + L(eps)
            (pi + L(negStepSize) * mi / denom).store(to: p)
            mi.store(to: m); vi.store(to: v)
        }
        let p = p.baseAddress, g = g.baseAddress
        s.expAvg.withUnsafeMutableBufferPointer { m in
            s.expAvgSq.withUnsafeMutableBufferPointer { v in
                guard let p, let g, let m = m.baseAddress, let v = v.baseAddress else { return }
                var i = 0
                while i + 16 <= n { update(SIMD16<Float>.self, p + i, m + i, v + i, g + i); i += 16 }
                while i < n { update(Float.self, p + i, m + i, v + i, g + i); i += 1 }
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

/// What AdamW's update computes with: one element (`Float`) or sixteen side by side (`SIMD16<Float>`).
protocol AdamWLanes {
    init(_ x: Float)
    init(loading p: UnsafePointer<Float>)
    func store(to p: UnsafeMutablePointer<Float>)
    func squareRoot() -> Self
    static func + (a: Self, b: Self) -> Self
    static func - (a: Self, b: Self) -> Self
    static func * (a: Self, b: Self) -> Self
    static func / (a: Self, b: Self) -> Self
}

extension Float: AdamWLanes {
    @inline(__always) init(loading p: UnsafePointer<Float>) { self = p.pointee }
    @inline(__always) func store(to p: UnsafeMutablePointer<Float>) { p.pointee = self }
}

extension SIMD16: AdamWLanes where Scalar == Float {
    @inline(__always) init(_ x: Float) { self.init(repeating: x) }
    @inline(__always) init(loading p: UnsafePointer<Float>) { self = UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self) }
    @inline(__always) func store(to p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: self, as: SIMD16<Float>.self) }
}
