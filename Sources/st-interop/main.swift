import ArgumentParser
import Checkpoint
import Foundation
import StageKit

/// st-interop: the Swift side of the safetensors interop check with the Python package (scripts/check-safetensors-interop).
struct STInterop: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "st-interop",
        abstract: "The Swift side of the safetensors round trip with Python's safetensors package.",
        discussion: StageExitCode.help(items: false),
        version: BuildSources.version,
        subcommands: [Write.self, Check.self])

    func run() throws { throw ValidationError("missing subcommand: write or check") }

    struct Write: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write the deterministic sample of Sample.swift to PATH.")
        @Argument(help: "The safetensors file to write.") var path: String
        func run() throws {
            try StageMain.command("st-interop") {
                let url = URL(fileURLWithPath: path)
                try SafeTensors.write(Sample.swiftSample(), to: url)
                print("swift: wrote \(url.path)")
            }
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify a sample written by scripts/safetensors_interop.py (a mismatch: exit 65).")
        @Argument(help: "The safetensors file Python wrote.") var path: String
        func run() throws {
            try StageMain.command("st-interop") {
                let url = URL(fileURLWithPath: path)
                let problems = try Sample.checkPythonSample(url)
                for p in problems { FileHandle.standardError.write(Data("swift check \(url.path): \(p)\n".utf8)) }
                if !problems.isEmpty { throw ExitCode(StageExitCode.dataError.rawValue) }
                print("swift: \(url.path) matches")
            }
        }
    }
}

STInterop.main()
