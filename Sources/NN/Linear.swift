import Autograd
import Random
import TensorCore

/// PyTorch `Linear`: y = x W^T + b, x [.., in] -> y [.., out].
/// Parameters: `weight` [out, in] (kaiming-uniform a=sqrt(5), i.e. U(+-1/sqrt(in))),
/// `bias` [out] (U(+-1/sqrt(in))), optional.
public final class Linear: Module {
    public let weight: Parameter
    public let bias: Parameter?

    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, key: RNGKey) {
        weight = Parameter(Init.kaimingUniformDefault([outFeatures, inFeatures], key: key.fold(in: "weight")), requiresGrad: true)
        self.bias = bias
            ? Parameter(Init.biasDefault(count: outFeatures, fanIn: inFeatures, key: key.fold(in: "bias")), requiresGrad: true)
            : nil
    }

    public var inFeatures: Int { weight.shape[1] }
    public var outFeatures: Int { weight.shape[0] }

    public var directParameters: [(String, Parameter)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }

    public func callAsFunction(_ x: Variable) -> Variable {
        precondition(x.shape.last == inFeatures, "Linear(\(inFeatures) -> \(outFeatures)): input shape \(x.shape)")
        return linear(x, weight: weight, bias: bias)
    }
}
