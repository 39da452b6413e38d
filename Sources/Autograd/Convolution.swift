import TensorCore

/// 2-D convolution (cross-correlation, groups 1) in NCHW.
///
/// x [N, Cin, H, W], weight [Cout, Cin, kh, kw], bias [Cout] ->
/// y [N, Cout, (H + 2p - kh)/s + 1, (W + 2p - kw)/s + 1].
/// Gradients: dx = conv-transpose of g with the weight (col2im), dW = g correlated with x,
/// db = sum of g over N, H, W.
public func conv2d(_ x: Variable, weight: Variable, bias: Variable?, stride: Int = 1, padding: Int = 0) -> Variable {
    let xv = x.value, wv = weight.value
    precondition(xv.rank == 4 && wv.rank == 4 && xv.shape[1] == wv.shape[1],
                 "conv2d: input \(xv.shape) and weight \(wv.shape) disagree (want [N, Cin, H, W] and [Cout, Cin, kh, kw])")
    let y = Kernels.conv2d(xv, weight: wv, bias: bias?.value, stride: (stride, stride), padding: (padding, padding))
    let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
    return Variable.record("conv2d", y, inputs: inputs) { g in
        let (dx, dw) = Kernels.conv2dBackward(g, input: xv, weight: wv, stride: (stride, stride), padding: (padding, padding),
                                              data: x.requiresGrad, weightGradient: weight.requiresGrad)
        var out: [Tensor?] = [dx, dw]
        if let bias { out.append(bias.requiresGrad ? Kernels.conv2dBackwardBias(g) : nil) }
        return out
    }
}
