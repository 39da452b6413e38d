/// A named tensor as stored in a checkpoint: a shape and row-major Float32 values.
/// `values.count == shape.reduce(1, *)` (a scalar has shape `[]` and one value; a zero dimension anywhere, none).
public struct TensorData: Sendable, Equatable {
    public var shape: [Int]
    public var values: [Float]
    /// The dtype to write (in memory the values are always Float32).
    public var dtype: DType

    public init(shape: [Int], values: [Float], dtype: DType = .f32) {
        precondition(shape.allSatisfy { $0 >= 0 } && TensorData.elementCount(shape) == values.count,
                     "TensorData: shape \(shape) holds \(TensorData.elementCount(shape).map(String.init) ?? "more than Int.max") values, got \(values.count)")
        self.shape = shape
        self.values = values
        self.dtype = dtype
    }

    public var count: Int { values.count }

    /// prod(shape), or nil when it overflows Int; 0 when any dimension is 0, wherever it stands (a file may declare
    /// [2^32, 2^32, 0], whose product from the left overflows before it reaches the 0).
    static func elementCount(_ shape: [Int]) -> Int? {
        if shape.contains(0) { return 0 }
        var n = 1
        for d in shape {
            let (p, overflow) = n.multipliedReportingOverflow(by: d)
            if overflow { return nil }
            n = p
        }
        return n
    }
}

/// The contents of a safetensors file: tensors by name and string metadata
/// (`__metadata__` in the header).
public struct SafeTensorsFile: Sendable, Equatable {
    public var tensors: [String: TensorData]
    public var metadata: [String: String]

    public init(tensors: [String: TensorData] = [:], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    /// Checks the tensors against the expected names and shapes, like nanoGPT's
    /// `from_pretrained` asserts: a missing key, an unexpected key or a wrong shape is an
    /// error naming the key (and both shapes). Problems are reported in sorted key order,
    /// missing keys first.
    /// - Parameter path: the file name used in the error.
    public func checkStrict(expected: [String: [Int]], path: String) throws(CheckpointError) {
        for key in expected.keys.sorted() where tensors[key] == nil {
            throw .missingKey(path: path, key: key, expectedShape: expected[key]!)
        }
        for key in tensors.keys.sorted() {
            guard let shape = expected[key] else {
                throw .unexpectedKey(path: path, key: key, shape: tensors[key]!.shape)
            }
            if tensors[key]!.shape != shape {
                throw .shapeMismatch(path: path, key: key, expected: shape, found: tensors[key]!.shape)
            }
        }
    }

    /// A metadata value, or a `badMetadata` error naming the key.
    public func metadataValue(_ key: String, path: String) throws(CheckpointError) -> String {
        guard let v = metadata[key] else {
            throw .badMetadata(path: path, key: key, detail: "missing; was this file written by this project?")
        }
        return v
    }
}

/// One tensor's entry as `describe` reports it.
public struct TensorInfo: Sendable, Equatable, CustomStringConvertible {
    public var name: String
    public var dtype: String
    public var shape: [Int]
    public var byteCount: Int

    public var description: String {
        "\(name)\t\(dtype)\t\(shape)\t\(byteCount) bytes"
    }
}
