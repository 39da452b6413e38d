import Autograd
import Random
import TensorCore

/// PyTorch `Dropout(p)`: in training, zeroes each element with probability p and scales the rest
/// by 1/(1-p); identity in eval (the default until `train()`). The mask comes from the seeded
/// counter-based stream and is applied as a constant multiplier, so it needs no gradient rule.
/// Each call advances the stream, so successive calls draw fresh masks; the stream position is
/// part of the module's state (`stream`) for bit-exact resumption.
public final class Dropout: Module {
    public let p: Float
    public private(set) var training = false
    public var stream: RandomStream

    public init(_ p: Float, key: RNGKey) {
        precondition(p >= 0 && p < 1, "Dropout: p = \(p) outside [0, 1)")
        self.p = p
        stream = RandomStream(key: key)
    }

    public func setTrainingSelf(_ training: Bool) { self.training = training }

    public func callAsFunction(_ x: Variable) -> Variable {
        guard training, p > 0 else { return x }
        let keep = 1 - p
        var mask = [Float](repeating: 0, count: x.value.count)
        mask.withUnsafeMutableBufferPointer { stream.fillUniform($0) }
        for i in mask.indices { mask[i] = mask[i] < keep ? 1 / keep : 0 }
        return x * Variable(Tensor(shape: x.shape, scalars: mask))
    }
}
