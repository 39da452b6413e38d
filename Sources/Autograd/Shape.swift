import TensorCore

// Shape operations: reshape (free), permute, concat, slice. Their gradients move elements back to
// where they came from (inverse permutation, split, scatter into zeros).

extension Variable {
    /// Same elements, new shape (`-1` infers one axis); d = g reshaped back.
    public func reshaped(_ newShape: [Int]) -> Variable {
        let xs = shape
        return Variable.record("reshape", value.reshaped(newShape), inputs: [self]) { g in [g.reshaped(xs)] }
    }

    /// Axes reordered: output axis i is input axis `perm[i]`; d = g permuted by the inverse.
    public func permuted(_ perm: [Int]) -> Variable {
        precondition(perm.sorted() == Array(0..<shape.count), "permute: \(perm) is not a permutation of the axes of \(shape)")
        var inverse = [Int](repeating: 0, count: perm.count)
        for (i, p) in perm.enumerated() { inverse[p] = i }
        return Variable.record("permute", Kernels.permute(value, perm), inputs: [self]) { g in
            [Kernels.permute(g, inverse)]
        }
    }

    /// Swaps two axes (a permute).
    public func transposed(_ a: Int, _ b: Int) -> Variable {
        var perm = Array(0..<shape.count)
        let r = shape.count
        perm.swapAt(a < 0 ? a + r : a, b < 0 ? b + r : b)
        return permuted(perm)
    }

    /// Elements `start..<end` along `axis`; d = g placed into zeros of the input's shape.
    public func slice(axis: Int, start: Int, end: Int) -> Variable {
        let ax = axis < 0 ? axis + shape.count : axis
        precondition(ax >= 0 && ax < shape.count && 0 <= start && start <= end && end <= shape[ax],
                     "slice: axis \(axis) range \(start)..<\(end) invalid for shape \(shape)")
        let xs = shape
        return Variable.record("slice", Kernels.slice(value, axis: ax, start: start, length: end - start), inputs: [self]) { g in
            [Kernels.sliceBackward(g, axis: ax, start: start, inputShape: xs)]
        }
    }

    /// Splits into `parts` equal chunks along `axis` (like `torch.chunk` with exact division).
    public func chunked(_ parts: Int, axis: Int) -> [Variable] {
        let ax = axis < 0 ? axis + shape.count : axis
        precondition(parts > 0 && shape[ax] % parts == 0, "chunk: \(shape[ax]) along axis \(axis) of \(shape) not divisible by \(parts)")
        let n = shape[ax] / parts
        return (0..<parts).map { slice(axis: ax, start: $0 * n, end: ($0 + 1) * n) }
    }
}

/// Concatenation along `axis`; d = g split back into the inputs' extents.
public func concat(_ xs: [Variable], axis: Int) -> Variable {
    precondition(!xs.isEmpty, "concat: no inputs")
    let r = xs[0].shape.count
    let ax = axis < 0 ? axis + r : axis
    let extents = xs.map { $0.shape[ax] }
    let y = Kernels.concat(xs.map(\.value), axis: ax)
    return Variable.record("concat", y, inputs: xs) { g in
        Kernels.split(g, axis: ax, sizes: extents)
    }
}
