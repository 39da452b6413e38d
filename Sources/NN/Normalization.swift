import Autograd
import TensorCore

/// PyTorch `GroupNorm(numGroups, numChannels, eps, affine)` over x [N, C, ...].
/// Parameters (when affine): `weight` [C] = 1, `bias` [C] = 0.
public final class GroupNorm: Module {
    public let groups: Int
    public let eps: Float
    public let weight: Parameter?
    public let bias: Parameter?

    public init(groups: Int, channels: Int, eps: Float = 1e-5, affine: Bool = true) {
        precondition(groups > 0 && channels % groups == 0, "GroupNorm: \(groups) groups do not divide \(channels) channels")
        self.groups = groups
        self.eps = eps
        weight = affine ? Parameter(Tensor(repeating: 1, shape: [channels]), requiresGrad: true) : nil
        bias = affine ? Parameter(Tensor(zeros: [channels]), requiresGrad: true) : nil
    }

    public var directParameters: [(String, Parameter)] {
        guard let weight, let bias else { return [] }
        return [("weight", weight), ("bias", bias)]
    }

    public func callAsFunction(_ x: Variable) -> Variable {
        groupNorm(x, groups: groups, weight: weight, bias: bias, eps: eps)
    }

    /// `silu(self(x))` as one fused op (Autograd `groupNormSiLU`), for the norm-then-SiLU of
    /// ResNet blocks and the U-Net's output.
    public func normAndSiLU(_ x: Variable) -> Variable {
        groupNormSiLU(x, groups: groups, weight: weight, bias: bias, eps: eps)
    }
}

/// PyTorch `LayerNorm(dim, eps, elementwise_affine)` over the last axis of x [.., dim].
/// Parameters (when affine): `weight` [dim] = 1, `bias` [dim] = 0. (ViT uses eps 1e-6.)
public final class LayerNorm: Module {
    public let eps: Float
    public let weight: Parameter?
    public let bias: Parameter?

    public init(_ dim: Int, eps: Float = 1e-5, affine: Bool = true) {
        self.eps = eps
        weight = affine ? Parameter(Tensor(repeating: 1, shape: [dim]), requiresGrad: true) : nil
        bias = affine ? Parameter(Tensor(zeros: [dim]), requiresGrad: true) : nil
    }

    public var directParameters: [(String, Parameter)] {
        guard let weight, let bias else { return [] }
        return [("weight", weight), ("bias", bias)]
    }

    public func callAsFunction(_ x: Variable) -> Variable {
        layerNorm(x, weight: weight, bias: bias, eps: eps)
    }
}
