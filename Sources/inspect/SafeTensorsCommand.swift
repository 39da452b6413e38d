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
            let described = try SafeTensors.describe(url)     // unreadable -> 66, malformed -> 65 (CheckpointError's kind)
            print("file\t\(file)\nsha256\t\(try SHA256.hexOfFile(url))")
            for (k, v) in described.metadata.sorted(by: { $0.key < $1.key }) { print("metadata\t\(k)\t\(v)") }
            print("name\tdtype\tshape\tbytes")
            for t in described.tensors { print("\(t.name)\t\(t.dtype)\t\(t.shape)\t\(t.byteCount)") }
        }
    }
}
