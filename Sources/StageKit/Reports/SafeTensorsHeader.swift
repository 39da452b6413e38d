import Foundation

/// The header of a safetensors file, read without the tensor data: an 8-byte little-endian header
/// length `n`, then `n` bytes of JSON `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {..}}`.
/// Kept minimal for `inspect safetensors` until the Checkpoint module's `describe` is merged.
public struct SafeTensorsHeader: Sendable, Equatable {
    public struct Tensor: Sendable, Equatable {
        public let name: String
        public let dtype: String
        public let shape: [Int]
        public let bytes: Int
    }
    public let tensors: [Tensor]
    public let metadata: [String: String]

    /// Errors name the file and what is wrong (`StageError.missingFile` for unreadable files,
    /// `SafeTensorsHeaderError` for malformed headers).
    public static func read(_ url: URL) throws -> SafeTensorsHeader {
        guard let h = FileHandle(forReadingAtPath: url.path) else {
            throw StageError.missingFile(path: url.path, hint: "pass an existing .safetensors file")
        }
        defer { try? h.close() }
        let size = (try? h.seekToEnd()) ?? 0
        try h.seek(toOffset: 0)
        let lenBytes = try h.read(upToCount: 8) ?? Data()
        guard lenBytes.count == 8 else { throw SafeTensorsHeaderError(path: url.path, problem: "shorter than 8 bytes") }
        let n = lenBytes.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard n <= 100_000_000, 8 + n <= size else {
            throw SafeTensorsHeaderError(path: url.path, problem: "header length \(n) exceeds the file size \(size)")
        }
        let json = try h.read(upToCount: Int(n)) ?? Data()
        guard let object = try? JSONSerialization.jsonObject(with: json) as? [String: Any] else {
            throw SafeTensorsHeaderError(path: url.path, problem: "header is not a JSON object")
        }
        var tensors: [Tensor] = []
        var metadata: [String: String] = [:]
        for (name, value) in object {
            if name == "__metadata__" {
                for (k, v) in value as? [String: Any] ?? [:] { metadata[k] = "\(v)" }
                continue
            }
            guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
                  let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int], offsets.count == 2,
                  offsets[0] <= offsets[1], UInt64(offsets[1]) <= size - 8 - n else {
                throw SafeTensorsHeaderError(path: url.path, problem: "entry '\(name)' lacks dtype, shape or valid data_offsets")
            }
            tensors.append(Tensor(name: name, dtype: dtype, shape: shape, bytes: offsets[1] - offsets[0]))
        }
        return SafeTensorsHeader(tensors: tensors.sorted { $0.name < $1.name }, metadata: metadata)
    }
}

/// A malformed safetensors header.
public struct SafeTensorsHeaderError: Error, CustomStringConvertible, Sendable, Equatable {
    public let path: String
    public let problem: String
    public var description: String { "\(path): not a safetensors file (\(problem)); hint: check the file was written completely" }
}
