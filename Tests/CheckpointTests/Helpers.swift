import Testing
import Foundation
@testable import Checkpoint

/// A fresh temporary directory per test (tests run in parallel).
func tempDir(_ tag: String = #function) -> URL {
    let clean = tag.filter { $0.isLetter || $0.isNumber }
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("ckpt-tests-\(clean)-\(UUID().uuidString)")
    try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// A raw safetensors file from a header JSON string and a data buffer.
func rawFile(header: String, data: [UInt8]) -> Data {
    var out = Data()
    withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { out.append(contentsOf: $0) }
    out.append(contentsOf: Array(header.utf8))
    out.append(contentsOf: data)
    return out
}

func hexBytes(_ s: String) -> Data {
    var out = Data()
    var i = s.startIndex
    while i < s.endIndex {
        let j = s.index(i, offsetBy: 2)
        out.append(UInt8(s[i..<j], radix: 16)!)
        i = j
    }
    return out
}

/// The error thrown by `body`, or nil.
func thrown(_ body: () throws -> Void) -> CheckpointError? {
    do { try body(); return nil } catch let e as CheckpointError { return e } catch {
        Issue.record("expected a CheckpointError, got \(error)")
        return nil
    }
}
