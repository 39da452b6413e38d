import Foundation
import Testing
@testable import Checkpoint

@Suite struct SafeTensorsFormatTests {
    /// Bytes from the Python package: `safetensors.numpy.save({"b": f16 [0.5, -2],
    /// "a": f32 [[1, 2, 3]], "c": f32 [3]})` (see scripts/safetensors_interop.py).
    static let pythonBytes = "a8000000000000007b2261223a7b226474797065223a22463332222c227368617065223a5b312c335d2c22646174615f6f666673657473223a5b302c31325d7d2c2263223a7b226474797065223a22463332222c227368617065223a5b315d2c22646174615f6f666673657473223a5b31322c31365d7d2c2262223a7b226474797065223a22463136222c227368617065223a5b325d2c22646174615f6f666673657473223a5b31362c32305d7d7d200000803f000000400000404000004040003800c0"
    /// `save({"w": f32 [1]}, metadata={"step": "3"})`.
    static let pythonMetadataBytes = "58000000000000007b225f5f6d657461646174615f5f223a7b2273746570223a2233227d2c2277223a7b226474797065223a22463332222c227368617065223a5b315d2c22646174615f6f666673657473223a5b302c345d7d7d2020202020200000803f"

    @Test func encodesExactlyLikeThePythonPackage() {
        let file = SafeTensorsFile(tensors: [
            "b": TensorData(shape: [2], values: [0.5, -2], dtype: .f16),
            "a": TensorData(shape: [1, 3], values: [1, 2, 3]),
            "c": TensorData(shape: [1], values: [3]),
        ])
        #expect(SafeTensors.encode(file) == hexBytes(Self.pythonBytes))
        let meta = SafeTensorsFile(tensors: ["w": TensorData(shape: [1], values: [1])], metadata: ["step": "3"])
        #expect(SafeTensors.encode(meta) == hexBytes(Self.pythonMetadataBytes))
    }

    @Test func parsesPythonBytes() throws {
        let file = try SafeTensors.parse(hexBytes(Self.pythonBytes), path: "py.safetensors")
        #expect(file.tensors["a"] == TensorData(shape: [1, 3], values: [1, 2, 3]))
        #expect(file.tensors["b"] == TensorData(shape: [2], values: [0.5, -2], dtype: .f16))
        #expect(file.tensors["c"]?.values == [3])
        #expect(file.metadata.isEmpty)
    }

    @Test func roundTripsAllDTypesAndMetadataThroughAFile() throws {
        let dir = tempDir()
        let url = dir.appendingPathComponent("m.safetensors")
        let values: [Float] = (0..<24).map { Float($0) * 0.37 - 4 }
        let original = SafeTensorsFile(tensors: [
            "layer.weight": TensorData(shape: [2, 3, 4], values: values),
            "half": TensorData(shape: [24], values: values, dtype: .f16),
            "brain": TensorData(shape: [4, 6], values: values, dtype: .bf16),
            "scalar": TensorData(shape: [], values: [7]),
            "empty": TensorData(shape: [0, 3], values: []),
        ], metadata: ["format": "pt", "quote\"and\\slash\n/\u{1}\t": "ünïcode ✓ a/b"])
        try SafeTensors.write(original, to: url)
        let back = try SafeTensors.read(url)
        #expect(back.metadata == original.metadata)
        #expect(back.tensors["layer.weight"] == original.tensors["layer.weight"])
        #expect(back.tensors["scalar"] == original.tensors["scalar"])
        #expect(back.tensors["empty"]?.shape == [0, 3])
        #expect(back.tensors["half"]?.values == values.map { HalfBits.float(fromF16: HalfBits.f16(from: $0)) })
        #expect(back.tensors["brain"]?.values == values.map { HalfBits.float(fromBF16: HalfBits.bf16(from: $0)) })
        #expect(back.tensors["brain"]?.dtype == .bf16)
        let headerLength = try Data(contentsOf: url).prefix(8).reversed().reduce(0) { $0 << 8 | Int($1) }
        #expect(headerLength % 8 == 0)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        #expect(leftovers == ["m.safetensors"], "temp files left: \(leftovers)")
    }

    @Test func describeListsNamesDTypesShapesAndBytes() throws {
        let url = tempDir().appendingPathComponent("d.safetensors")
        try SafeTensors.write(SafeTensorsFile(tensors: [
            "z": TensorData(shape: [3], values: [1, 2, 3], dtype: .f16),
            "a": TensorData(shape: [2, 2], values: [1, 2, 3, 4]),
        ], metadata: ["k": "v"]), to: url)
        let (infos, meta) = try SafeTensors.describe(url)
        #expect(infos == [TensorInfo(name: "a", dtype: "F32", shape: [2, 2], byteCount: 16),
                          TensorInfo(name: "z", dtype: "F16", shape: [3], byteCount: 6)])
        #expect(meta == ["k": "v"])
    }

    @Test func atomicWriteReplacesAndReportsAMissingDirectory() throws {
        let dir = tempDir()
        let url = dir.appendingPathComponent("x.safetensors")
        try SafeTensors.write(SafeTensorsFile(tensors: ["a": TensorData(shape: [1], values: [1])]), to: url)
        try SafeTensors.write(SafeTensorsFile(tensors: ["a": TensorData(shape: [1], values: [2])]), to: url)
        #expect(try SafeTensors.read(url).tensors["a"]?.values == [2])
        let bad = dir.appendingPathComponent("no/such/dir/x.safetensors")
        let error = thrown { try SafeTensors.write(SafeTensorsFile(), to: bad) }
        guard case .writeFailed(let path, _)? = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(path == bad.path)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["x.safetensors"])
    }
}
