import ArgumentParser
import Checkpoint
import Foundation
import Manifest
import StageKit

/// `inspect safetensors <file>`: the header as the Checkpoint module reads it, plus the file's SHA-256.
struct SafeTensorsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "safetensors",
                                                    abstract: "Tensor names, dtypes, shapes and the file's SHA-256.")
    @Argument(help: "A .safetensors file.") var file: String
    func run() throws {
        try guarded {
            let url = URL(fileURLWithPath: file)
            let described: (tensors: [TensorInfo], metadata: [String: String])
            do { described = try SafeTensors.describe(url) } catch {
                if case CheckpointError.unreadable? = error as? CheckpointError { throw ExitCodeError(code: .noInput, message: "\(error)") }
                throw ExitCodeError(code: .dataError, message: "\(error)")
            }
            print("file\t\(file)\nsha256\t\(try SHA256.hexOfFile(url))")
            for (k, v) in described.metadata.sorted(by: { $0.key < $1.key }) { print("metadata\t\(k)\t\(v)") }
            print("name\tdtype\tshape\tbytes")
            for t in described.tensors { print("\(t.name)\t\(t.dtype)\t\(t.shape)\t\(t.byteCount)") }
        }
    }
}

/// An error from a module StageKit does not know, with the exit code chosen here.
struct ExitCodeError: Error, CustomStringConvertible {
    let code: StageExitCode
    let message: String
    var description: String { message }
}
