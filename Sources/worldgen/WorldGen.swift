import ArgumentParser
import Foundation
import Imaging
import StageKit
import World

/// worldgen: renders the procedural world to disk (contact sheet, HPatches sequences,
/// split listing, sample renders).
@main
struct WorldGen: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worldgen",
        abstract: "Render the procedural world: contact sheets, HPatches sequences, split listings.",
        version: BuildSources.version,
        subcommands: [ContactSheetCommand.self, HPatchesCommand.self, SplitsCommand.self,
                      DreamBenchCommand.self, RenderCommand.self])
}

/// A worldgen subcommand: `work()` does the job; its errors become one `worldgen: error: ...` line and
/// the exit code of the shared table (`StageMain.command`: 65 bad data, 66 missing input, 74 I/O, ...).
protocol WorldGenSubcommand: ParsableCommand {
    func work() throws
}

extension WorldGenSubcommand {
    func run() throws { try StageMain.command("worldgen", work) }
}

struct ContactSheetCommand: WorldGenSubcommand {
    static let configuration = CommandConfiguration(commandName: "contact-sheet",
        abstract: "Write the documentation contact sheet (categories, backgrounds, defects, HPatches).")
    @Option(help: "Output PNG path.") var out: String = "docs/world.png"
    @Option(help: "Render size of each cell (multiple of 16).") var size: Int = 64
    func validate() throws {
        guard size > 0, size % 16 == 0 else { throw ValidationError("--size must be a positive multiple of 16") }
    }
    func work() throws {
        let img = try WorldSheet.make(size: size)
        try PNG.write(img, to: out)
        print("wrote \(out) (\(img.width)x\(img.height))")
    }
}
