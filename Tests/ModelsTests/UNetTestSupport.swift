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

/// Element-wise |a - e| <= atol + rtol |e|; reports max abs/rel error and the first bad index.
func expectClose(_ actual: Tensor, _ expected: Tensor, atol: Float, rtol: Float, _ label: String,
                 sourceLocation: SourceLocation = #_sourceLocation) {
    guard actual.shape == expected.shape else {
        Issue.record("\(label): shape \(actual.shape) != expected \(expected.shape)", sourceLocation: sourceLocation)
        return
    }
    var maxAbs: Float = 0, maxRel: Float = 0, firstBad: Int?
    for (i, (a, e)) in zip(actual.scalars, expected.scalars).enumerated() {
        let d = abs(a - e)
        maxAbs = max(maxAbs, d)
        maxRel = max(maxRel, d / max(abs(e), 1e-12))
        if firstBad == nil && !(d <= atol + rtol * abs(e)) { firstBad = i }
    }
    #expect(firstBad == nil, """
        \(label): max abs err \(maxAbs), max rel err \(maxRel); first bad index \(firstBad ?? -1) \
        (got \(firstBad.map { actual.scalars[$0] } ?? 0), want \(firstBad.map { expected.scalars[$0] } ?? 0))
        """, sourceLocation: sourceLocation)
}
