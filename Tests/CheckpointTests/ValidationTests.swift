import Foundation
import Testing
@testable import Checkpoint

/// Every malformed file gives a typed error naming the file and the key.
@Suite struct ValidationTests {
    let path = "bad.safetensors"
    let f32x2 = #"{"dtype":"F32","shape":[2],"data_offsets":"#

    func parseError(_ data: Data) -> CheckpointError? {
        thrown { _ = try SafeTensors.parse(data, path: path) }
    }

    @Test func truncatedAndHeaderBeyondFile() {
        #expect(parseError(Data([1, 2, 3])) == .truncated(path: path, size: 3))
        var d = rawFile(header: "{}", data: [])
        d[0] = 200
        #expect(parseError(d) == .headerBeyondFile(path: path, headerLength: 200, fileSize: 10))
        d = Data(repeating: 0xff, count: 16)
        #expect(parseError(d) == .headerBeyondFile(path: path, headerLength: UInt64.max, fileSize: 16))
    }

    @Test func badJSONAndBadEntries() {
        guard case .badJSON(let p, _)? = parseError(rawFile(header: "{\"a\": [", data: [])) else {
            Issue.record("expected badJSON"); return
        }
        #expect(p == path)
        let e = parseError(rawFile(header: #"{"w":{"dtype":"F32","shape":[2]}}"#, data: []))
        guard case .badEntry(_, let key, let detail)? = e else { Issue.record("got \(String(describing: e))"); return }
        #expect(key == "w" && detail.contains("data_offsets"), "\(detail)")
        let neg = parseError(rawFile(header: #"{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}}"#, data: []))
        guard case .badEntry(_, "w", _)? = neg else { Issue.record("got \(String(describing: neg))"); return }
        let frac = parseError(rawFile(header: #"{"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]))
        guard case .badEntry(_, "w", _)? = frac else { Issue.record("frac got \(String(describing: frac))"); return }
        let meta = parseError(rawFile(header: #"{"__metadata__":{"step":3}}"#, data: []))
        guard case .badMetadata(_, "step", _)? = meta else { Issue.record("got \(String(describing: meta))"); return }
    }

    @Test func unknownDTypeIsNamedButDescribable() throws {
        let data = rawFile(header: #"{"ids":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}"#, data: [UInt8](repeating: 0, count: 8))
        #expect(parseError(data) == .unknownDType(path: path, key: "ids", dtype: "I64"))
        let weird = rawFile(header: #"{"q":{"dtype":"Q4","shape":[1],"data_offsets":[0,1]}}"#, data: [0])
        #expect(parseError(weird) == .unknownDType(path: path, key: "q", dtype: "Q4"))
        let url = tempDir().appendingPathComponent("ids.safetensors")
        try data.write(to: url)
        #expect(try SafeTensors.describe(url).tensors == [TensorInfo(name: "ids", dtype: "I64", shape: [1], byteCount: 8)])
    }

    @Test func offsetsOutOfRangeMismatchedOverlappingOrNotCovering() {
        let eight = [UInt8](repeating: 0, count: 8)
        #expect(parseError(rawFile(header: "{\"w\":\(f32x2)[0,12]}}", data: eight))
                == .offsetsOutOfRange(path: path, key: "w", begin: 0, end: 12, bufferSize: 8))
        #expect(parseError(rawFile(header: "{\"w\":\(f32x2)[4,0]}}", data: eight))
                == .offsetsOutOfRange(path: path, key: "w", begin: 4, end: 0, bufferSize: 8))
        #expect(parseError(rawFile(header: "{\"w\":\(f32x2)[0,4]}}", data: eight))
                == .byteCountMismatch(path: path, key: "w", shape: [2], dtype: "F32", expected: 8, found: 4))
        #expect(parseError(rawFile(header: "{\"a\":\(f32x2)[0,8]},\"b\":\(f32x2)[4,12]}}", data: eight + [0, 0, 0, 0]))
                == .overlap(path: path, key: "b", other: "a"))
        #expect(parseError(rawFile(header: "{\"a\":\(f32x2)[4,12]}}", data: eight + [0, 0, 0, 0]))
                == .gap(path: path, before: "a", at: 0, bufferSize: 12))
        #expect(parseError(rawFile(header: "{\"a\":\(f32x2)[0,8]}}", data: eight + [9]))
                == .gap(path: path, before: "<end of file>", at: 8, bufferSize: 9))
    }

    @Test func unreadableFileIsNamed() {
        let url = URL(fileURLWithPath: "/nonexistent/x.safetensors")
        guard case .unreadable(let p, _)? = thrown({ _ = try SafeTensors.read(url) }) else {
            Issue.record("expected unreadable"); return
        }
        #expect(p == url.path)
        #expect(CheckpointError.unreadable(path: p, reason: "r").description.contains(p))
    }

    @Test func strictLoadingNamesTheKeyAndBothShapes() throws {
        let url = tempDir().appendingPathComponent("s.safetensors")
        try SafeTensors.write(SafeTensorsFile(tensors: [
            "fc.weight": TensorData(shape: [2, 3], values: [Float](repeating: 1, count: 6)),
            "fc.bias": TensorData(shape: [2], values: [0, 0]),
        ]), to: url)
        let ok = try SafeTensors.readStrict(url, expected: ["fc.weight": [2, 3], "fc.bias": [2]])
        #expect(ok.tensors.count == 2)
        #expect(thrown { _ = try SafeTensors.readStrict(url, expected: ["fc.weight": [2, 3], "fc.bias": [2], "fc2.bias": [4]]) }
                == .missingKey(path: url.path, key: "fc2.bias", expectedShape: [4]))
        #expect(thrown { _ = try SafeTensors.readStrict(url, expected: ["fc.weight": [2, 3]]) }
                == .unexpectedKey(path: url.path, key: "fc.bias", shape: [2]))
        let wrong = thrown { _ = try SafeTensors.readStrict(url, expected: ["fc.weight": [3, 2], "fc.bias": [2]]) }
        #expect(wrong == .shapeMismatch(path: url.path, key: "fc.weight", expected: [3, 2], found: [2, 3]))
        let text = wrong?.description ?? ""
        #expect(text.contains("fc.weight") && text.contains("[3, 2]") && text.contains("[2, 3]") && text.contains(url.path))
    }
}

/// Headers that claim more data than the file holds are refused from the header alone: the reader never
/// allocates a tensor's values before its byte count (computed with overflow checks) matches its data_offsets
/// span, which must lie inside the file.
@Suite struct ShapeBombTests {
    @Test func shapesBeyondTheDataSectionAreRefused() {
        // 64 Ki x 64 Ki F32 = 16 GiB claimed, offsets pointing past a 4-byte data section.
        let beyond = rawFile(header: #"{"w":{"dtype":"F32","shape":[65536,65536],"data_offsets":[0,17179869184]}}"#, data: [0, 0, 0, 0])
        #expect(thrown { _ = try SafeTensors.parse(beyond, path: "b.safetensors") }
                == .offsetsOutOfRange(path: "b.safetensors", key: "w", begin: 0, end: 17_179_869_184, bufferSize: 4))
        // The same shape with offsets that fit: its byte count does not match their span.
        let lying = rawFile(header: #"{"w":{"dtype":"F32","shape":[65536,65536],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0])
        #expect(thrown { _ = try SafeTensors.parse(lying, path: "l.safetensors") }
                == .byteCountMismatch(path: "l.safetensors", key: "w", shape: [65536, 65536], dtype: "F32",
                                      expected: 17_179_869_184, found: 4))
    }

    @Test func byteCountOverflowIsNamed() throws {
        // 2^31 x 2^31 x 2^31 elements overflow Int; a zero dimension makes the same product 0 bytes.
        let huge = rawFile(header: #"{"w":{"dtype":"F32","shape":[2147483648,2147483648,2147483648],"data_offsets":[0,0]}}"#, data: [])
        let e = thrown { _ = try SafeTensors.parse(huge, path: "h.safetensors") }
        #expect(e == .shapeOverflow(path: "h.safetensors", key: "w", shape: [2_147_483_648, 2_147_483_648, 2_147_483_648], dtype: "F32"))
        #expect(e.map { "\($0)" }?.contains("'w'") == true)
        let empty = rawFile(header: #"{"w":{"dtype":"F32","shape":[0,4294967296,4294967296],"data_offsets":[0,0]}}"#, data: [])
        #expect(try SafeTensors.parse(empty, path: "e.safetensors").tensors["w"]?.values.isEmpty == true)
        #expect(SafeTensors.byteCount(shape: [3, 4], elementSize: 2) == 24)
        #expect(SafeTensors.byteCount(shape: [], elementSize: 4) == 4)
        #expect(SafeTensors.byteCount(shape: [Int.max / 2, 3], elementSize: 1) == nil)
    }

    /// A zero dimension after huge ones: 0 bytes, so the header is valid, but the element count was prod(shape) from the
    /// left, whose first product overflows Int (a trap; an input the fuzz harness crashes on,
    /// Tests/Fuzz/corpus/safetensors/). It is an empty tensor, as with the zero first.
    @Test func aZeroDimensionAfterHugeOnesIsAnEmptyTensorNotATrap() throws {
        let late = rawFile(header: #"{"w":{"dtype":"F32","shape":[4294967296,4294967296,0],"data_offsets":[0,0]}}"#, data: [])
        let w = try #require(try SafeTensors.parse(late, path: "z.safetensors").tensors["w"])
        #expect(w.shape == [4_294_967_296, 4_294_967_296, 0] && w.values.isEmpty && w.count == 0)
        #expect(TensorData(shape: [Int.max, 2, 0], values: []).values.isEmpty)
    }
}

/// A key repeated within one object of the header: JSONDecoder keeps one of the two silently, so the
/// reader refuses the file naming the key.
@Suite struct DuplicateKeyTests {
    @Test func aTensorNamedTwiceIsRefused() {
        let twice = rawFile(header: #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#,
                            data: [UInt8](repeating: 0, count: 8))
        #expect(thrown { _ = try SafeTensors.parse(twice, path: "d.safetensors") } == .duplicateKey(path: "d.safetensors", key: "w"))
        #expect("\(CheckpointError.duplicateKey(path: "d.safetensors", key: "w"))".contains("names 'w' twice"))
        let escaped = rawFile(header: #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"\u0077":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
                              data: [UInt8](repeating: 0, count: 8))
        #expect(thrown { _ = try SafeTensors.parse(escaped, path: "e.safetensors") } == .duplicateKey(path: "e.safetensors", key: "w"))
    }

    @Test func aFieldRepeatedInsideAnEntryOrMetadataIsRefused() {
        let field = rawFile(header: #"{"w":{"dtype":"F16","dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0])
        #expect(thrown { _ = try SafeTensors.parse(field, path: "f") } == .duplicateKey(path: "f", key: "w.dtype"))
        let meta = rawFile(header: #"{"__metadata__":{"a":"1","a":"2"},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0])
        #expect(thrown { _ = try SafeTensors.parse(meta, path: "m") } == .duplicateKey(path: "m", key: "__metadata__.a"))
    }

    /// Equal names in different objects, and key-like text inside string values, are not repeats.
    @Test func sameNamesInOtherObjectsAreFine() throws {
        let ok = rawFile(header: #"{"__metadata__":{"note":"\"w\":{\"x\",","w":"{["},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"#
                         + #""v":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: [UInt8](repeating: 0, count: 8))
        let f = try SafeTensors.parse(ok, path: "ok")
        #expect(Set(f.tensors.keys) == ["w", "v"] && f.metadata["w"] == "{[")
    }
}
