/// A dense Float32 tensor: row-major contiguous storage with a shape (NCHW for images).
///
/// Value semantics: `scalars` is a copy-on-write array, so a `Tensor` is cheap to pass and
/// safe to share across threads. Views (permute, slice) are materialised by kernels; the
/// tensor itself is always contiguous, which keeps every kernel simple and BLAS-friendly.
public struct Tensor: Sendable, Equatable {
    /// Extent of each axis, outermost first. A scalar has shape `[]`.
    public private(set) var shape: [Int]
    /// Row-major contiguous elements; `scalars.count == shape.reduce(1, *)`.
    public var scalars: [Float]

    /// Wraps `scalars` in `shape`; the counts must agree.
    public init(shape: [Int], scalars: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor: negative extent in shape \(shape)")
        let n = shape.reduce(1, *)
        precondition(n == scalars.count, "Tensor: shape \(shape) holds \(n) elements, got \(scalars.count)")
        self.shape = shape
        self.scalars = scalars
    }

    /// A tensor of `shape` filled with `value`.
    public init(repeating value: Float, shape: [Int]) {
        self.init(shape: shape, scalars: [Float](repeating: value, count: shape.reduce(1, *)))
    }

    /// A tensor of `shape` filled with zeros.
    public init(zeros shape: [Int]) { self.init(repeating: 0, shape: shape) }

    /// A rank-0 tensor.
    public init(scalar: Float) { self.init(shape: [], scalars: [scalar]) }

    /// Number of elements.
    public var count: Int { scalars.count }
    /// Number of axes.
    public var rank: Int { shape.count }

    /// Row-major strides in elements.
    public var strides: [Int] {
        var s = [Int](repeating: 1, count: shape.count)
        var acc = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) { s[i] = acc; acc *= shape[i] }
        return s
    }

    /// The same elements under a new shape with the same element count (`-1` infers one axis).
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var dims = newShape
        if let i = dims.firstIndex(of: -1) {
            let known = dims.enumerated().filter { $0.offset != i }.map(\.element).reduce(1, *)
            precondition(known > 0 && count % known == 0, "reshape: cannot infer -1 in \(newShape) from \(shape)")
            dims[i] = count / known
        }
        precondition(dims.reduce(1, *) == count, "reshape: \(shape) (\(count) elements) to \(newShape)")
        return Tensor(shape: dims, scalars: scalars)
    }

    /// Element at a multi-index (slow; for tests and small code paths).
    public subscript(_ index: [Int]) -> Float {
        get { scalars[offset(of: index)] }
        set { scalars[offset(of: index)] = newValue }
    }

    func offset(of index: [Int]) -> Int {
        precondition(index.count == shape.count, "index \(index) for shape \(shape)")
        var o = 0
        for (i, (x, n)) in zip(index, shape).enumerated() {
            precondition(x >= 0 && x < n, "index \(index) out of bounds for shape \(shape) at axis \(i)")
            o = o * n + x
        }
        return o
    }
}
