import Foundation

/// Reads safetensors files: `[u64 little-endian header length N][N bytes JSON header][data]`.
///
/// The header maps each tensor name to `{"dtype", "shape", "data_offsets": [begin, end]}`
/// (offsets relative to the data buffer) plus an optional `"__metadata__"` string map.
/// Validation: the header fits in the file, the JSON parses with no key repeated in one object, every dtype is known,
/// `end - begin == prod(shape) * size(dtype)` (computed with overflow checks), offsets lie inside the
/// buffer, and the tensors tile the buffer exactly (no overlap, no gap, nothing trailing). So no header,
/// however large the shapes it claims, makes the reader allocate more than the file's data section.
public enum SafeTensors {
    /// The header as decoded: `__metadata__` apart, every other key a tensor entry.
    struct RawHeader: Decodable {
        var metadata: [String: String] = [:]
        var entries: [String: RawEntry] = [:]

        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: Key.self)
            for key in c.allKeys {
                if key.stringValue == "__metadata__" {
                    metadata = try c.decode([String: String].self, forKey: key)
                } else {
                    entries[key.stringValue] = try c.decode(RawEntry.self, forKey: key)
                }
            }
        }
    }

    struct RawEntry: Decodable {
        var dtype: String
        // Doubles, not Ints: Foundation's decoder reports a fractional Int without the
        // key; integrality is checked in `entry` so the error names the tensor.
        var shape: [Double]
        var data_offsets: [Double]
    }

    /// A header entry after validation.
    struct Entry {
        var name: String
        var dtypeName: String
        var shape: [Int]
        var begin: Int
        var end: Int
    }

    /// Reads and converts every tensor to Float32.
    public static func read(_ url: URL) throws(CheckpointError) -> SafeTensorsFile {
        let data = try load(url)
        return try parse(data, path: url.path)
    }

    /// Parses a whole file held in memory; `path` names it in errors.
    public static func parse(_ data: Data, path: String) throws(CheckpointError) -> SafeTensorsFile {
        let (entries, metadata, dataStart) = try header(data, path: path)
        var tensors: [String: TensorData] = [:]
        for e in entries {
            guard let dtype = DType(rawValue: e.dtypeName) else {
                throw .unknownDType(path: path, key: e.name, dtype: e.dtypeName)
            }
            // The span is prod(shape) x size, checked in `entry`; prod(shape) itself may overflow from the left
            // when a zero dimension comes after huge ones ([2^32, 2^32, 0] holds 0 elements).
            let values = decode(data, from: dataStart + e.begin, count: (e.end - e.begin) / dtype.size, dtype: dtype)
            tensors[e.name] = TensorData(shape: e.shape, values: values, dtype: dtype)
        }
        return SafeTensorsFile(tensors: tensors, metadata: metadata)
    }

    /// Reads a file and checks it against expected names and shapes (see `checkStrict`).
    public static func readStrict(_ url: URL, expected: [String: [Int]]) throws(CheckpointError) -> SafeTensorsFile {
        let file = try read(url)
        try file.checkStrict(expected: expected, path: url.path)
        return file
    }

    /// Names, dtypes, shapes and byte sizes (sorted by name) and the metadata, without
    /// converting the data. Unknown dtypes are listed (only reading them is an error).
    public static func describe(_ url: URL) throws(CheckpointError) -> (tensors: [TensorInfo], metadata: [String: String]) {
        let data = try load(url)
        let (entries, metadata, _) = try header(data, path: url.path)
        let infos = entries.map {
            TensorInfo(name: $0.name, dtype: $0.dtypeName, shape: $0.shape, byteCount: $0.end - $0.begin)
        }.sorted { $0.name < $1.name }
        return (infos, metadata)
    }

    static func load(_ url: URL) throws(CheckpointError) -> Data {
        do {
            return try Data(contentsOf: url, options: .mappedIfSafe)
        } catch {
            throw .unreadable(path: url.path, reason: (error as NSError).localizedDescription)
        }
    }

    static func elementSize(_ dtypeName: String) -> Int? {
        switch dtypeName {
        case "F64", "I64", "U64": return 8
        case "F32", "I32", "U32": return 4
        case "F16", "BF16", "I16", "U16": return 2
        case "I8", "U8", "BOOL", "F8_E4M3", "F8_E5M2": return 1
        default: return nil
        }
    }

    /// Parses and validates the header; returns entries sorted by offset.
    static func header(_ data: Data, path: String) throws(CheckpointError) -> ([Entry], [String: String], Int) {
        guard data.count >= 8 else { throw .truncated(path: path, size: data.count) }
        let n = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard n <= UInt64(data.count - 8) else {
            throw .headerBeyondFile(path: path, headerLength: n, fileSize: data.count)
        }
        let headerBytes = data.subdata(in: data.startIndex + 8 ..< data.startIndex + 8 + Int(n))
        let raw: RawHeader
        do {
            raw = try JSONDecoder().decode(RawHeader.self, from: headerBytes)
        } catch let error as DecodingError {
            throw decodingError(error, path: path)
        } catch {
            throw .badJSON(path: path, detail: "\(error)")
        }
        if let key = DuplicateKeys.first(in: headerBytes) { throw .duplicateKey(path: path, key: key) }
        let bufferSize = data.count - 8 - Int(n)
        var entries: [Entry] = []
        for (key, value) in raw.entries {
            entries.append(try entry(key, value, path: path, bufferSize: bufferSize))
        }
        try checkTiling(entries.sorted { ($0.begin, $0.end) < ($1.begin, $1.end) }, path: path, bufferSize: bufferSize)
        return (entries.sorted { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }, raw.metadata, 8 + Int(n))
    }

    /// A DecodingError as a typed error naming the tensor (first coding-path component).
    static func decodingError(_ error: DecodingError, path: String) -> CheckpointError {
        let context: DecodingError.Context
        switch error {
        case let .typeMismatch(_, c), let .valueNotFound(_, c), let .keyNotFound(_, c), let .dataCorrupted(c):
            context = c
        @unknown default:
            return .badJSON(path: path, detail: "\(error)")
        }
        var detail = context.debugDescription
        if case let .keyNotFound(key, _) = error { detail = "missing field '\(key.stringValue)'" }
        guard let first = context.codingPath.first?.stringValue else {
            return .badJSON(path: path, detail: detail)
        }
        let field = context.codingPath.dropFirst().map(\.stringValue).joined(separator: ".")
        let where_ = field.isEmpty ? "" : "field '\(field)': "
        if first == "__metadata__" {
            return .badMetadata(path: path, key: field, detail: detail)
        }
        return .badEntry(path: path, key: first, detail: where_ + detail)
    }

    static func entry(_ key: String, _ raw: RawEntry, path: String, bufferSize: Int) throws(CheckpointError) -> Entry {
        guard let shape = integers(raw.shape), let offsets = integers(raw.data_offsets) else {
            throw .badEntry(path: path, key: key, detail: "'shape' and 'data_offsets' must hold integers, got \(raw.shape) and \(raw.data_offsets)")
        }
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw .badEntry(path: path, key: key, detail: "negative dimension in shape \(shape)")
        }
        guard offsets.count == 2 else {
            throw .badEntry(path: path, key: key, detail: "'data_offsets' must be [begin, end], got \(offsets)")
        }
        guard let size = elementSize(raw.dtype) else {
            throw .unknownDType(path: path, key: key, dtype: raw.dtype)
        }
        let (begin, end) = (offsets[0], offsets[1])
        guard begin >= 0, begin <= end, end <= bufferSize else {
            throw .offsetsOutOfRange(path: path, key: key, begin: begin, end: end, bufferSize: bufferSize)
        }
        guard let bytes = byteCount(shape: shape, elementSize: size) else {
            throw .shapeOverflow(path: path, key: key, shape: shape, dtype: raw.dtype)
        }
        if bytes != end - begin {
            throw .byteCountMismatch(path: path, key: key, shape: shape, dtype: raw.dtype, expected: bytes, found: end - begin)
        }
        return Entry(name: key, dtypeName: raw.dtype, shape: shape, begin: begin, end: end)
    }

    /// prod(shape) * elementSize, or nil when the product overflows Int (a shape with a 0 dimension
    /// has 0 bytes whatever the others). Callers compare it with the entry's data_offsets span, which
    /// lies inside the file: a header cannot make the reader allocate more than the file holds.
    static func byteCount(shape: [Int], elementSize: Int) -> Int? {
        if shape.contains(0) { return 0 }
        var n = elementSize
        for d in shape {
            let (p, overflow) = n.multipliedReportingOverflow(by: d)
            if overflow { return nil }
            n = p
        }
        return n
    }

    static func integers(_ xs: [Double]) -> [Int]? {
        guard xs.allSatisfy({ $0 == $0.rounded() && abs($0) <= 0x1p53 }) else { return nil }
        return xs.map { Int($0) }
    }

    /// Sorted entries must tile `[0, bufferSize)`: each begins where the previous ended.
    static func checkTiling(_ sorted: [Entry], path: String, bufferSize: Int) throws(CheckpointError) {
        var cursor = 0
        var previous: String? = nil
        for e in sorted {
            if e.begin < cursor, let p = previous {
                throw .overlap(path: path, key: e.name, other: p)
            }
            if e.begin > cursor {
                throw .gap(path: path, before: e.name, at: cursor, bufferSize: bufferSize)
            }
            cursor = e.end
            if e.end > e.begin || previous == nil { previous = e.name }
        }
        if cursor != bufferSize {
            throw .gap(path: path, before: "<end of file>", at: cursor, bufferSize: bufferSize)
        }
    }

    static func decode(_ data: Data, from start: Int, count: Int, dtype: DType) -> [Float] {
        var out = [Float](repeating: 0, count: count)
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let base = raw.baseAddress! + start
            switch dtype {
            case .f32:
                for i in 0..<count {
                    out[i] = Float(bitPattern: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
                }
            case .f16:
                for i in 0..<count {
                    out[i] = HalfBits.float(fromF16: UInt16(littleEndian: base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
                }
            case .bf16:
                for i in 0..<count {
                    out[i] = HalfBits.float(fromBF16: UInt16(littleEndian: base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
                }
            }
        }
        return out
    }
}
