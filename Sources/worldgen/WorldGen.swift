import ArgumentParser
import Foundation
import Imaging
import World

/// worldgen: renders the procedural world to disk (contact sheet, HPatches sequences,
/// split listing, sample renders).
@main
struct WorldGen: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worldgen",
        abstract: "Render the procedural world: contact sheets, HPatches sequences, split listings.",
        subcommands: [ContactSheetCommand.self, HPatchesCommand.self, SplitsCommand.self,
                      DreamBenchCommand.self, RenderCommand.self])
}

struct ContactSheetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "contact-sheet",
        abstract: "Write the documentation contact sheet (categories, backgrounds, defects, HPatches).")
    @Option(help: "Output PNG path.") var out: String = "docs/world.png"
    @Option(help: "Render size of each cell (multiple of 16).") var size: Int = 64
    func validate() throws {
        guard size > 0, size % 16 == 0 else { throw ValidationError("--size must be a positive multiple of 16") }
    }
    func run() throws {
        let img = try WorldSheet.make(size: size)
        try PNG.write(img, to: out)
        print("wrote \(out) (\(img.width)x\(img.height))")
    }
}
