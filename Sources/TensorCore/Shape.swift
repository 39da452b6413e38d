/// Materialising layout kernels: permute, concat, slice/split and their backward scatters.
extension Kernels {
    /// `out[i_0, ..., i_{r-1}] = x[j]` where `j[dims[a]] = i_a`; `out.shape[a] = x.shape[dims[a]]`.
    public static func permute(_ x: Tensor, _ dims: [Int]) -> Tensor {
        precondition(dims.sorted() == Array(0..<x.rank), "permute: \(dims) is not a permutation of the axes of \(x.shape)")
        if dims == Array(0..<x.rank) { return x }
        let shape = dims.map { x.shape[$0] }
        let xs = x.strides
        let st = dims.map { xs[$0] }           // input stride of each output axis
        var out = uninitializedStorage(x.count)
        if out.isEmpty { return Tensor(shape: shape, scalars: out) }
        let inner = shape[shape.count - 1], innerStride = st[st.count - 1]
        let rows = x.count / inner
        x.scalars.withUnsafeBufferPointer { px in
            out.withUnsafeMutableBufferPointer { po in
                let px = px.baseAddress!, po = UnsafeSendable(po.baseAddress!)
                Threads.parallelFor(rows, chunk: Swift.max(1, elementChunk / inner)) { rs in
                    for r in rs {
                        var rem = r, off = 0
                        for a in stride(from: shape.count - 2, through: 0, by: -1) {
                            off += (rem % shape[a]) * st[a]; rem /= shape[a]
                        }
                        let dst = po.value + r * inner
                        for j in 0..<inner { dst[j] = px[off + j * innerStride] }
                    }
                }
            }
        }
        return Tensor(shape: shape, scalars: out)
    }

    /// Swaps axes `a` and `b` (negative counts from the end).
    public static func transpose(_ x: Tensor, _ a: Int, _ b: Int) -> Tensor {
        var dims = Array(0..<x.rank)
        dims.swapAt(a < 0 ? a + x.rank : a, b < 0 ? b + x.rank : b)
        return permute(x, dims)
    }

    /// The inverse permutation of `dims` (permute's backward: `permute(grad, inversePermutation(dims))`).
    public static func inversePermutation(_ dims: [Int]) -> [Int] {
        var inv = [Int](repeating: 0, count: dims.count)
        for (i, d) in dims.enumerated() { inv[d] = i }
        return inv
    }

    /// Joins `parts` along `axis`; all other extents must agree.
    public static func concat(_ parts: [Tensor], axis: Int) -> Tensor {
        precondition(!parts.isEmpty, "concat: no tensors")
        let rank = parts[0].rank
        let ax = axis < 0 ? axis + rank : axis
        precondition(ax >= 0 && ax < rank, "concat: axis \(axis) out of range for \(parts[0].shape)")
        for p in parts {
            precondition(p.rank == rank && p.shape.enumerated().allSatisfy { $0.offset == ax || $0.element == parts[0].shape[$0.offset] },
                         "concat: shapes \(parts.map(\.shape)) differ off axis \(ax)")
        }
        var shape = parts[0].shape
        shape[ax] = parts.map { $0.shape[ax] }.reduce(0, +)
        let outer = shape[..<ax].reduce(1, *), innerBase = shape[(ax + 1)...].reduce(1, *)
        let rowLen = shape[ax] * innerBase
        var out = uninitializedStorage(outer * rowLen)
        var at = 0
        for p in parts {
            let len = p.shape[ax] * innerBase
            p.scalars.withUnsafeBufferPointer { src in
                out.withUnsafeMutableBufferPointer { dst in
                    for o in 0..<outer where len > 0 {
                        (dst.baseAddress! + o * rowLen + at).update(from: src.baseAddress! + o * len, count: len)
                    }
                }
            }
            at += len
        }
        return Tensor(shape: shape, scalars: out)
    }

    /// `x[..., start ..< start + length, ...]` along `axis`.
    public static func slice(_ x: Tensor, axis: Int, start: Int, length: Int) -> Tensor {
        let ax = axis < 0 ? axis + x.rank : axis
        precondition(ax >= 0 && ax < x.rank && start >= 0 && length >= 0 && start + length <= x.shape[ax],
                     "slice: [\(start), \(start + length)) on axis \(axis) of \(x.shape)")
        var shape = x.shape
        shape[ax] = length
        let outer = x.shape[..<ax].reduce(1, *), inner = x.shape[(ax + 1)...].reduce(1, *)
        let srcRow = x.shape[ax] * inner, len = length * inner
        var out = uninitializedStorage(outer * len)
        if out.isEmpty { return Tensor(shape: shape, scalars: out) }
        x.scalars.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for o in 0..<outer {
                    (dst.baseAddress! + o * len).update(from: src.baseAddress! + o * srcRow + start * inner, count: len)
                }
            }
        }
        return Tensor(shape: shape, scalars: out)
    }

    /// Splits along `axis` into pieces of the given extents (which must sum to the axis extent).
    public static func split(_ x: Tensor, axis: Int, sizes: [Int]) -> [Tensor] {
        let ax = axis < 0 ? axis + x.rank : axis
        precondition(ax >= 0 && ax < x.rank && sizes.reduce(0, +) == x.shape[ax],
                     "split: sizes \(sizes) on axis \(axis) of \(x.shape)")
        var start = 0
        return sizes.map { n in
            defer { start += n }
            return slice(x, axis: ax, start: start, length: n)
        }
    }

    /// Backward of `slice`: a zero tensor of `inputShape` with `grad` placed at `start` on `axis`.
    public static func sliceBackward(_ grad: Tensor, axis: Int, start: Int, inputShape: [Int]) -> Tensor {
        let ax = axis < 0 ? axis + inputShape.count : axis
        var expect = inputShape
        expect[ax] = grad.shape[ax]
        precondition(grad.shape == expect && start + grad.shape[ax] <= inputShape[ax],
                     "sliceBackward: grad \(grad.shape) at \(start) on axis \(axis) of \(inputShape)")
        let outer = inputShape[..<ax].reduce(1, *), inner = inputShape[(ax + 1)...].reduce(1, *)
        let dstRow = inputShape[ax] * inner, len = grad.shape[ax] * inner
        var out = [Float](repeating: 0, count: inputShape.reduce(1, *))
        if len > 0 {
            grad.scalars.withUnsafeBufferPointer { src in
                out.withUnsafeMutableBufferPointer { dst in
                    for o in 0..<outer {
                        (dst.baseAddress! + o * dstRow + start * inner).update(from: src.baseAddress! + o * len, count: len)
                    }
                }
            }
        }
        return Tensor(shape: inputShape, scalars: out)
    }
}
