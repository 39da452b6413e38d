import TensorCore

extension Variable {
    /// softmax over the last axis: y_i = exp(x_i - max) / sum_j exp(x_j - max).
    /// d x_i = y_i (g_i - sum_j g_j y_j).
    public func softmax() -> Variable {
        let y = Kernels.softmax(value)
        return Variable.record("softmax", y, inputs: [self]) { g in [Kernels.softmaxBackward(g, output: y)] }
    }

    /// log-softmax over the last axis: y_i = x_i - logsumexp(x).  d x_i = g_i - exp(y_i) sum_j g_j.
    public func logSoftmax() -> Variable {
        let y = Kernels.logSoftmax(value)
        return Variable.record("logSoftmax", y, inputs: [self]) { g in [Kernels.logSoftmaxBackward(g, output: y)] }
    }
}
