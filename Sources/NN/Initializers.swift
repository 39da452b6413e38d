import Random
import TensorCore

/// PyTorch default initialisations, drawn from the counter-based RNG so that a parameter's values
/// depend only on (key, element index): the same key gives the same weights on any thread count.
public enum Init {
    /// U(low, high) of `shape` from `key`.
    public static func uniform(_ shape: [Int], low: Float, high: Float, key: RNGKey) -> Tensor {
        var s = [Float](repeating: 0, count: shape.reduce(1, *))
        s.withUnsafeMutableBufferPointer { key.fillUniform($0, low: low, high: high) }
        return Tensor(shape: shape, scalars: s)
    }

    /// N(mean, std^2) of `shape` from `key` (PyTorch `Embedding` uses N(0, 1)).
    public static func normal(_ shape: [Int], mean: Float = 0, std: Float = 1, key: RNGKey) -> Tensor {
        var s = [Float](repeating: 0, count: shape.reduce(1, *))
        s.withUnsafeMutableBufferPointer { key.fillNormal($0, mean: mean, std: std) }
        return Tensor(shape: shape, scalars: s)
    }

    /// `kaiming_uniform_(w, a=sqrt(5))`, PyTorch's default for Linear and Conv weights:
    /// bound = gain * sqrt(3 / fan_in) with gain = sqrt(2 / (1 + a^2)) = sqrt(1/3), i.e.
    /// bound = 1 / sqrt(fan_in); fan_in = shape[1] * (product of shape[2...]).
    public static func kaimingUniformDefault(_ shape: [Int], key: RNGKey) -> Tensor {
        let bound = 1 / Float(fanIn(shape)).squareRoot()
        return uniform(shape, low: -bound, high: bound, key: key)
    }

    /// PyTorch's default bias: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with the weight's fan_in.
    public static func biasDefault(count: Int, fanIn: Int, key: RNGKey) -> Tensor {
        let bound = fanIn > 0 ? 1 / Float(fanIn).squareRoot() : 0
        return uniform([count], low: -bound, high: bound, key: key)
    }

    /// fan_in of a weight `[out, in, k...]`.
    public static func fanIn(_ shape: [Int]) -> Int {
        precondition(shape.count >= 2, "fanIn: weight shape \(shape) needs at least 2 axes")
        return shape[1] * shape[2...].reduce(1, *)
    }
}
