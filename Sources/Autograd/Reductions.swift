import TensorCore

// Reductions over a set of axes. Backward broadcasts the (keepdims-shaped) gradient back to the
// input's shape: every input element that fed an output element receives that element's gradient
// (times 1/n for mean; only the argmax element for max).

extension Variable {
    /// Sum over `axes` (all axes when nil). Output keeps reduced axes as 1 when `keepDims`.
    public func sum(axes: [Int]? = nil, keepDims: Bool = false) -> Variable {
        let ax = normalizedAxes(axes), xs = shape
        let y = Kernels.sum(value, axes: ax, keepDims: keepDims)
        return Variable.record("sum", y, inputs: [self]) { g in
            [Kernels.broadcast(g.reshaped(keptShape(xs, ax)), to: xs)]
        }
    }

    /// Mean over `axes` (all axes when nil); d = g / n, n = product of the reduced extents.
    public func mean(axes: [Int]? = nil, keepDims: Bool = false) -> Variable {
        let ax = normalizedAxes(axes), xs = shape
        let n = ax.map { xs[$0] }.reduce(1, *)
        let y = Kernels.mean(value, axes: ax, keepDims: keepDims)
        return Variable.record("mean", y, inputs: [self]) { g in
            [Kernels.broadcast(Kernels.scale(g, 1 / Float(n)).reshaped(keptShape(xs, ax)), to: xs)]
        }
    }

    /// Max over `axes`; the gradient goes to the first maximal element of each reduced group.
    public func max(axes: [Int]? = nil, keepDims: Bool = false) -> Variable {
        let ax = normalizedAxes(axes), xs = shape
        let (y, arg) = Kernels.max(value, axes: ax, keepDims: keepDims)
        return Variable.record("max", y, inputs: [self]) { g in
            [Kernels.maxBackward(g, argmax: arg, inputShape: xs)]
        }
    }

    /// Variance over `axes` (biased: divide by n; unbiased: by n-1), composed from mean and squares,
    /// so it needs no rule of its own: var = mean((x - mean(x))^2) * n/(n - 1 if unbiased).
    public func variance(axes: [Int]? = nil, unbiased: Bool = false, keepDims: Bool = false) -> Variable {
        let ax = normalizedAxes(axes)
        let n = ax.map { shape[$0] }.reduce(1, *)
        let centered = self - mean(axes: ax, keepDims: true)
        let v = centered.squared().mean(axes: ax, keepDims: keepDims)
        return unbiased ? v.scaled(Float(n) / Float(Swift.max(n - 1, 1))) : v
    }

    func normalizedAxes(_ axes: [Int]?) -> [Int] {
        guard let axes else { return Array(0..<shape.count) }
        let r = shape.count
        let out = axes.map { $0 < 0 ? $0 + r : $0 }
        precondition(out.allSatisfy { $0 >= 0 && $0 < r } && Set(out).count == out.count,
                     "reduction axes \(axes) invalid for shape \(shape)")
        return out.sorted()
    }
}

/// `shape` with the `axes` set to 1 (the keepdims shape).
func keptShape(_ shape: [Int], _ axes: [Int]) -> [Int] {
    var s = shape
    for a in axes { s[a] = 1 }
    return s
}
