import Autograd
import Random
import TensorCore

/// PyTorch `Conv2d` (groups 1, square kernel, same stride and padding on both axes), NCHW.
/// x [N, in, H, W] -> [N, out, (H + 2p - k)/s + 1, (W + 2p - k)/s + 1].
/// Parameters: `weight` [out, in, k, k] (kaiming-uniform a=sqrt(5): U(+-1/sqrt(in k^2))),
/// `bias` [out] (U(+-1/sqrt(in k^2))), optional.
public final class Conv2d: Module {
    public let weight: Parameter
    public let bias: Parameter?
    public let stride: Int
    public let padding: Int

    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                bias: Bool = true, key: RNGKey) {
        let shape = [outChannels, inChannels, kernelSize, kernelSize]
        weight = Parameter(Init.kaimingUniformDefault(shape, key: key.fold(in: "weight")), requiresGrad: true)
        self.bias = bias
            ? Parameter(Init.biasDefault(count: outChannels, fanIn: Init.fanIn(shape), key: key.fold(in: "bias")), requiresGrad: true)
            : nil
        self.stride = stride
        self.padding = padding
    }

    public var directParameters: [(String, Parameter)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }

    public func callAsFunction(_ x: Variable) -> Variable {
        conv2d(x, weight: weight, bias: bias, stride: stride, padding: padding)
    }
}
