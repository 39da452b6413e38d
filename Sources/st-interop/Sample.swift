import Checkpoint
import Foundation

/// The two interop samples. Keep in sync with scripts/safetensors_interop.py.
enum Sample {
    static func swiftSample() -> SafeTensorsFile {
        SafeTensorsFile(tensors: [
            "f32.matrix": TensorData(shape: [3, 4], values: (0..<12).map { Float($0) * 0.25 - 1.5 }),
            "f32.scalar": TensorData(shape: [], values: [3.14159]),
            // 65504 = largest half, 1e-7 a subnormal, 0.1 rounds, 70000 overflows to inf.
            "f16.vector": TensorData(shape: [7], values: [0, 1, -2.5, 65504, 1e-7, 0.1, 70000], dtype: .f16),
            "f32.empty": TensorData(shape: [0, 3], values: []),
        ], metadata: ["writer": "st-interop", "format": "pt", "note": "ünïcode \"quoted\""])
    }

    /// Problems found in the Python sample (empty when it matches).
    static func checkPythonSample(_ url: URL) throws -> [String] {
        let file = try SafeTensors.read(url)
        let (infos, _) = try SafeTensors.describe(url)
        var problems: [String] = []
        let dtypes = Dictionary(uniqueKeysWithValues: infos.map { ($0.name, $0.dtype) })
        let expectedDTypes = ["py.f32": "F32", "py.f16": "F16", "py.bf16": "BF16",
                              "expected.py.f16": "F32", "expected.py.bf16": "F32"]
        if dtypes != expectedDTypes { problems.append("dtypes \(dtypes) != \(expectedDTypes)") }
        if file.metadata != ["writer": "python", "dtypes": "F32,F16,BF16"] {
            problems.append("metadata \(file.metadata)")
        }
        let f32 = file.tensors["py.f32"]
        if f32 != TensorData(shape: [2, 3], values: (0..<6).map { Float($0) * 0.5 - 1 }) {
            problems.append("py.f32 = \(String(describing: f32))")
        }
        // Our F16/BF16 decoding must equal NumPy's, bit for bit.
        for name in ["py.f16", "py.bf16"] {
            guard let got = file.tensors[name], let want = file.tensors["expected." + name] else {
                problems.append("missing \(name) or expected.\(name)")
                continue
            }
            if got.shape != want.shape || got.values.map(\.bitPattern) != want.values.map(\.bitPattern) {
                problems.append("\(name): \(got.values) != NumPy's \(want.values)")
            }
        }
        return problems
    }
}
