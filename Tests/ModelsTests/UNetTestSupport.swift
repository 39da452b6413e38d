import Checkpoint
import Foundation
import Testing
import TensorCore

/// Fixture access and element-wise comparison for the U-Net and resampler tests.
enum UNetFixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures")

    /// A safetensors fixture; regenerate with `python3 scripts/golden_unet.py`.
    static func safetensors(_ name: String) throws -> SafeTensorsFile {
        try SafeTensors.read(directory.appendingPathComponent(name))
    }

    /// The tensors of `file` whose key starts with `prefix`, with the prefix removed.
    static func subset(_ file: SafeTensorsFile, prefix: String) -> SafeTensorsFile {
        var out = SafeTensorsFile()
        for (k, v) in file.tensors where k.hasPrefix(prefix) { out.tensors[String(k.dropFirst(prefix.count))] = v }
        return out
    }

    /// A "key AxBxC" list, one per line.
    static func keyList(_ name: String) throws -> [(String, [Int])] {
        let text = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
        return text.split(separator: "\n").map { line in
            let parts = line.split(separator: " ")
            return (String(parts[0]), parts[1].split(separator: "x").map { Int($0)! })
        }
    }
}

extension TensorData {
    var tensor: Tensor { Tensor(shape: shape, scalars: values) }
}
