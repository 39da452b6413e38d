// libFuzzer entry point for the project's parsers of untrusted files (issue 19, fuzzing in CI).
// Built only with PATCHDPO_FUZZ=1 and `-sanitize=fuzzer,address` (scripts/fuzz); libFuzzer supplies `main`,
// so this file is not main.swift. FUZZ_TARGET picks the parser; every parser must return or throw on any
// bytes: a trap, a crash or an AddressSanitizer report is a bug in the parser. Targets: Tests/Fuzz/README.md.
import Checkpoint
import Diffusion
import Foundation
import Imaging
import Models
import Pretrained
import StageKit
import World

enum FuzzTarget: String, CaseIterable {
    case safetensors, png, ppm, toml
    case hpatchesHomography = "hpatches-homography"
    case manifestRecord = "manifest-record"

    static let selected: FuzzTarget = {
        let name = ProcessInfo.processInfo.environment["FUZZ_TARGET"] ?? ""
        guard let target = FuzzTarget(rawValue: name) else {
            let all = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
            FileHandle.standardError.write(Data("fuzz-parsers: set FUZZ_TARGET to one of \(all) (got '\(name)')\n".utf8))
            exit(64)
        }
        return target
    }()

    func run(_ bytes: [UInt8]) {
        switch self {
        case .safetensors:
            // Header (length, JSON, entries, tiling) and data (F32/F16/BF16 conversion).
            _ = try? SafeTensors.parse(Data(bytes), path: "fuzz.safetensors")
        case .png:
            _ = try? PNG.decode(bytes, name: "fuzz.png")
        case .ppm:
            _ = try? PPM.decode(bytes, name: "fuzz.ppm")
        case .toml:
            let text = String(decoding: bytes, as: UTF8.self)
            if let doc = try? TOMLDocument.parse(text, file: "fuzz.toml") {
                for table in doc.tables.values { for entry in table.entries.values { _ = entry.value.canonical } }
            }
            _ = try? TOMLDocument.parseValue(text, source: "--set")
        case .hpatchesHomography:
            // An accepted H_1_k is invertible (`Homography.isInvertible`), so its inverse must not trap.
            if let h = try? HPatches.parseHomography(bytes, path: "H_1_2") {
                _ = h.inverse.apply(1, 1)
            }
        case .manifestRecord:
            // The JSON record each pretrain stage records in the manifest next to its weights (kind `record`; the
            // manifest itself is SQLite, no JSON), decoded and checked as the loaders do before building a model from it.
            if let r = try? PretrainRecord.decode(Data(bytes), path: URL(fileURLWithPath: "fuzz.json")) {
                _ = try? r.vit?.validate()
                _ = try? r.clip?.validate()
                _ = try? r.unet?.validate()
                _ = try? r.resampler?.validate()
                _ = try? r.judge?.validate()
                _ = try? r.vae?.validate()
                _ = try? r.segmenter?.validate()
                _ = try? r.referenceEncoder?.validate()
                _ = r.noise?.problem
                _ = try? r.encoded()
            }
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = size > 0 && data != nil ? Array(UnsafeBufferPointer(start: data, count: size)) : []
    FuzzTarget.selected.run(bytes)
    return 0
}

// SwiftPM links every executable product with `--defsym main=<module>_main` (its test-linkable entry point), which
// would replace libFuzzer's `main` with a symbol this module does not otherwise define. So the module defines it:
// libFuzzer's own driver, exactly what its `main` runs.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

@_cdecl("fuzz_parsers_main")
public func fuzzParsersMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    _ = FuzzTarget.selected     // an unknown FUZZ_TARGET exits 64 here, before libFuzzer would call it a crash
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv, fuzzOneInput)
}
