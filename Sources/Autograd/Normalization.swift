import TensorCore

/// Group normalisation (PyTorch `GroupNorm`) of x [N, C, ...] with C divisible by `groups`:
/// y = (x - mean_g) / sqrt(var_g + eps) * weight[c] + bias[c], mean/var (biased) over each group's
/// channels and all spatial positions. weight, bias: [C] (optional together).
/// Backward uses the saved mean and rstd from the forward kernel.
public func groupNorm(_ x: Variable, groups: Int, weight: Variable?, bias: Variable?, eps: Float = 1e-5) -> Variable {
    let xv = x.value
    precondition(xv.rank >= 2 && xv.shape[1] % groups == 0, "groupNorm: channels of \(xv.shape) not divisible by \(groups) groups")
    let wv = weight?.value, bv = bias?.value
    let r = Kernels.groupNorm(xv, groups: groups, weight: wv, bias: bv, eps: eps)
    let mean = r.mean, rstd = r.rstd
    return recordNorm("groupNorm", r.output, x: x, weight: weight, bias: bias) { g in
        Kernels.groupNormBackward(g, input: xv, mean: mean, rstd: rstd, groups: groups, weight: wv, hasBias: bias != nil)
    }
}

/// `silu(groupNorm(x))` as one op (`Kernels.groupNormSiLU`): the values and gradients of the two
/// ops composed, with one saved tensor (x, and the stats) instead of two and fewer passes.
public func groupNormSiLU(_ x: Variable, groups: Int, weight: Variable?, bias: Variable?, eps: Float = 1e-5) -> Variable {
    let xv = x.value
    precondition(xv.rank >= 2 && xv.shape[1] % groups == 0, "groupNormSiLU: channels of \(xv.shape) not divisible by \(groups) groups")
    let wv = weight?.value, bv = bias?.value
    let r = Kernels.groupNormSiLU(xv, groups: groups, weight: wv, bias: bv, eps: eps)
    let mean = r.mean, rstd = r.rstd
    return recordNorm("groupNormSiLU", r.output, x: x, weight: weight, bias: bias) { g in
        Kernels.groupNormSiLUBackward(g, input: xv, mean: mean, rstd: rstd, groups: groups, weight: wv, bias: bv)
    }
}

/// Layer normalisation over the last axis (PyTorch `LayerNorm(d)`): x [.., D],
/// y = (x - mean) / sqrt(var + eps) * weight + bias, weight/bias [D] (optional together).
public func layerNorm(_ x: Variable, weight: Variable?, bias: Variable?, eps: Float = 1e-5) -> Variable {
    let xv = x.value
    let wv = weight?.value, bv = bias?.value
    let r = Kernels.layerNorm(xv, weight: wv, bias: bv, eps: eps)
    let mean = r.mean, rstd = r.rstd
    return recordNorm("layerNorm", r.output, x: x, weight: weight, bias: bias) { g in
        Kernels.layerNormBackward(g, input: xv, mean: mean, rstd: rstd, weight: wv, hasBias: bias != nil)
    }
}

/// Records a normalisation whose inputs are `x` and the optional affine `weight` and `bias`:
/// `backward` maps dL/dy to the kernel's gradients, handed back in input order (the affine ones only
/// for the parameters present).
private func recordNorm(_ op: String, _ y: Tensor, x: Variable, weight: Variable?, bias: Variable?,
                        backward: @escaping (Tensor) -> NormGradients) -> Variable {
    var inputs = [x]
    if let weight { inputs.append(weight) }
    if let bias { inputs.append(bias) }
    return Variable.record(op, y, inputs: inputs) { g in
        let d = backward(g)
        var out: [Tensor?] = [d.input]
        if weight != nil { out.append(d.weight) }
        if bias != nil { out.append(d.bias) }
        return out
    }
}
