// st-interop: the Swift side of the safetensors interop check with the Python package.
//   st-interop write PATH   writes the deterministic sample of Sample.swift
//   st-interop check PATH   verifies a sample written by scripts/safetensors_interop.py
// Exit status by the shared table (StageExitCode): 0 ok, 64 bad usage, 65 a mismatch or a malformed file,
// 66 a missing file, 74 a failed write.
import Checkpoint
import Foundation
import StageKit

let args = CommandLine.arguments
guard args.count == 3, ["write", "check"].contains(args[1]) else {
    FileHandle.standardError.write(Data("usage: st-interop write|check PATH\n".utf8))
    exit(StageExitCode.usage.rawValue)
}
let url = URL(fileURLWithPath: args[2])
do {
    if args[1] == "write" {
        try SafeTensors.write(Sample.swiftSample(), to: url)
        print("swift: wrote \(url.path)")
    } else {
        let problems = try Sample.checkPythonSample(url)
        for p in problems {
            FileHandle.standardError.write(Data("swift check \(url.path): \(p)\n".utf8))
        }
        if !problems.isEmpty { exit(StageExitCode.dataError.rawValue) }
        print("swift: \(url.path) matches")
    }
} catch {
    FileHandle.standardError.write(Data("st-interop: \(error)\n".utf8))
    exit(StageExitCode.of(error).rawValue)
}
