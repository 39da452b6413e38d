import Foundation

extension SafeTensors {
    /// Writes `file` atomically (see `AtomicFile.write`). Each tensor is stored in its
    /// `dtype` (F32, F16 or BF16; F16/BF16 round to nearest even).
    public static func write(_ file: SafeTensorsFile, to url: URL) throws(CheckpointError) {
        try AtomicFile.write(encode(file), to: url)
    }

    /// The bytes of a safetensors file, laid out as the Rust `safetensors` crate (behind
    /// the Python package) lays them out: data sorted by dtype (F32, F16, BF16) then name,
    /// no padding between tensors, header JSON compact with `__metadata__` first (keys
    /// sorted) and tensors in data order, padded with spaces to a multiple of 8 bytes so
    /// the data buffer starts 8-byte aligned.
    public static func encode(_ file: SafeTensorsFile) -> Data {
        let names = file.tensors.keys.sorted {
            let a = file.tensors[$0]!.dtype, b = file.tensors[$1]!.dtype
            return a != b ? a < b : $0 < $1
        }
        var json = "{"
        var parts: [String] = []
        if !file.metadata.isEmpty {
            let items = file.metadata.keys.sorted().map { "\(quote($0)):\(quote(file.metadata[$0]!))" }
            parts.append("\"__metadata__\":{" + items.joined(separator: ",") + "}")
        }
        var offset = 0
        for name in names {
            let t = file.tensors[name]!
            let bytes = t.count * t.dtype.size
            let shape = t.shape.map(String.init).joined(separator: ",")
            parts.append("\(quote(name)):{\"dtype\":\"\(t.dtype.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + bytes)]}")
            offset += bytes
        }
        json += parts.joined(separator: ",") + "}"
        var header = Array(json.utf8)
        header += [UInt8](repeating: 0x20, count: (8 - header.count % 8) % 8)

        var out = Data(capacity: 8 + header.count + offset)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: header)
        for name in names {
            let t = file.tensors[name]!
            switch t.dtype {
            case .f32:
                var le = t.values.map { $0.bitPattern.littleEndian }
                le.withUnsafeMutableBytes { out.append(contentsOf: $0) }
            case .f16:
                var le = t.values.map { HalfBits.f16(from: $0).littleEndian }
                le.withUnsafeMutableBytes { out.append(contentsOf: $0) }
            case .bf16:
                var le = t.values.map { HalfBits.bf16(from: $0).littleEndian }
                le.withUnsafeMutableBytes { out.append(contentsOf: $0) }
            }
        }
        return out
    }

    /// A JSON string literal, escaped by Foundation's JSONEncoder (RFC 8259) rather than by hand; slashes
    /// stay unescaped so names and metadata read as written.
    static func quote(_ s: String) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        // Encoding a String cannot fail (no non-finite numbers, no custom encode).
        return String(decoding: try! encoder.encode(s), as: UTF8.self)
    }
}
