import TensorCore

// Elementwise unary math. Each rule is g * f'(x), with f' from a TensorCore derivative kernel
// (or from the saved output where that is cheaper and exact: exp, sqrt, sigmoid, tanh).

extension Variable {
    /// exp(x); d = g * exp(x).
    public func exp() -> Variable {
        let y = Kernels.exp(value)
        return Variable.record("exp", y, inputs: [self]) { g in [Kernels.expBackward(g, output: y)] }
    }

    /// log(x) (natural); d = g / x.
    public func log() -> Variable {
        let x = value
        return Variable.record("log", Kernels.log(x), inputs: [self]) { g in [Kernels.logBackward(g, input: x)] }
    }

    /// sqrt(x); d = g / (2 sqrt(x)).
    public func sqrt() -> Variable {
        let y = Kernels.sqrt(value)
        return Variable.record("sqrt", y, inputs: [self]) { g in [Kernels.sqrtBackward(g, output: y)] }
    }

    /// x^p for a constant exponent p; d = g * p * x^(p-1).
    public func pow(_ p: Float) -> Variable {
        let x = value
        return Variable.record("pow", Kernels.pow(x, p), inputs: [self]) { g in
            [Kernels.powBackward(g, input: x, exponent: p)]
        }
    }

    /// x^2 (shorthand for pow(2)).
    public func squared() -> Variable { self * self }

    /// SiLU(x) = x * sigmoid(x); d = g * sigmoid(x) * (1 + x (1 - sigmoid(x))).
    public func silu() -> Variable {
        let x = value
        return Variable.record("silu", Kernels.silu(x), inputs: [self]) { g in [Kernels.siluBackward(g, input: x)] }
    }

    /// GELU. `approximate == false`: x * Phi(x) with the exact erf; true: the tanh approximation
    /// 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) (PyTorch `approximate='tanh'`).
    public func gelu(approximate: Bool = false) -> Variable {
        let x = value
        return Variable.record("gelu", Kernels.gelu(x, approximate: approximate), inputs: [self]) { g in
            [Kernels.geluBackward(g, input: x, approximate: approximate)]
        }
    }

    /// Gated GELU over the last axis [.., 2F] -> [.., F]: a * GELU(g) with (a, g) the two halves
    /// (diffusers GEGLU, exact erf). Equals `chunked(2, axis: -1)` then `parts[0] * parts[1].gelu()`;
    /// fused (`Kernels.geglu`). d a = dy GELU(g), d g = dy a GELU'(g).
    public func geglu() -> Variable {
        let x = value
        return Variable.record("geglu", Kernels.geglu(x), inputs: [self]) { g in [Kernels.gegluBackward(g, input: x)] }
    }

    /// sigmoid(x) = 1 / (1 + e^-x); d = g * y (1 - y).
    public func sigmoid() -> Variable {
        let y = Kernels.sigmoid(value)
        return Variable.record("sigmoid", y, inputs: [self]) { g in [Kernels.sigmoidBackward(g, output: y)] }
    }

    /// tanh(x); d = g * (1 - y^2).
    public func tanh() -> Variable {
        let y = Kernels.tanh(value)
        return Variable.record("tanh", y, inputs: [self]) { g in [Kernels.tanhBackward(g, output: y)] }
    }

    /// ReLU max(x, 0); d = g where x > 0, else 0.
    public func relu() -> Variable {
        let x = value
        return Variable.record("relu", Kernels.relu(x), inputs: [self]) { g in [Kernels.reluBackward(g, input: x)] }
    }

    /// log(sigmoid(x)) = -log(1 + e^-x), computed stably for any x as the first entry of
    /// log-softmax([x, 0]) over a new last axis (so it needs no rule of its own). Used by the
    /// preference losses (logsig of METHODS.md).
    public func logSigmoid() -> Variable {
        let pair = concat([self.reshaped(shape + [1]), Variable(Tensor(zeros: shape + [1]))], axis: shape.count)
        return pair.logSoftmax().slice(axis: shape.count, start: 0, end: 1).reshaped(shape)
    }
}
