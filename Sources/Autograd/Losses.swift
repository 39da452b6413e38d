import TensorCore

/// Mean squared error over all elements: mean((a - b)^2), a scalar [] tensor.
/// d a = 2 (a - b) / n * g, d b = -d a.
public func mseLoss(_ a: Variable, _ b: Variable) -> Variable {
    precondition(a.shape == b.shape, "mseLoss: shapes \(a.shape) and \(b.shape) differ")
    let av = a.value, bv = b.value
    let y = Kernels.mseLoss(av, bv)
    return Variable.record("mse", y, inputs: [a, b]) { g in
        let da = Kernels.mseLossBackward(av, bv, grad: g.scalars[0])
        return [da, b.requiresGrad ? Kernels.scale(da, -1) : nil]
    }
}

/// Cross-entropy of logits [N, C] against integer targets (N values in 0..<C), mean over N:
/// -(1/N) sum_n log softmax(logits_n)[target_n], a scalar [] tensor.
/// d logits = (softmax(logits) - onehot(target)) / N * g.
public func crossEntropyLoss(_ logits: Variable, targets: [Int32]) -> Variable {
    precondition(logits.shape.count == 2 && logits.shape[0] == targets.count,
                 "crossEntropyLoss: logits \(logits.shape), \(targets.count) targets (want [N, C] and N targets)")
    let lv = logits.value
    return Variable.record("crossEntropy", Kernels.crossEntropy(logits: lv, targets: targets), inputs: [logits]) { g in
        [Kernels.crossEntropyBackward(logits: lv, targets: targets, grad: g.scalars[0])]
    }
}
