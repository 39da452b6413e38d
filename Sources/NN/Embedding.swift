import Autograd
import Random
import TensorCore

/// PyTorch `Embedding(count, dim)`: rows of `weight` [count, dim] (init N(0, 1)) at integer ids.
public final class Embedding: Module {
    public let weight: Parameter

    public init(_ count: Int, _ dim: Int, key: RNGKey) {
        weight = Parameter(Init.normal([count, dim], key: key.fold(in: "weight")), requiresGrad: true)
    }

    public var directParameters: [(String, Parameter)] { [("weight", weight)] }

    /// ids of any shape S (values in 0..<count) -> [S.., dim].
    public func callAsFunction(_ ids: [Int32], shape: [Int]? = nil) -> Variable {
        embedding(ids, shape: shape, table: weight)
    }
}
