import Foundation
import PackagePlugin

/// Compiles into an executable the fingerprint of the sources it is built from (`BuildSources.fingerprint`,
/// see Manifest's `SourceFingerprint`): every file of the executable's own module and of every module of this
/// package it depends on, directly or not; and the package version with the line `--version` prints
/// (`BuildSources.version`). Every executable of the package but the tool itself uses it. Modules of other packages (ArgumentParser) are left out: their
/// version is not pinned in the repository, so they would make one commit's fingerprint differ between machines.
/// SwiftPM reruns the tool whenever one of those files changes, so a change to, say, Objectives' maths changes
/// dpo-train's and bench's code version and the stages rerun ("code changed" in their rerun line).
@main
struct CodeFingerprint: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        guard let module = target.sourceModule else { return [] }
        let root = context.package.directoryURL.standardizedFileURL.path
        let modules = [module] + module.recursiveTargetDependencies.compactMap(\.sourceModule)
        var seen = Set<String>()
        var inputs: [URL] = []
        for m in modules {
            for file in m.sourceFiles {
                let path = file.url.standardizedFileURL.path
                guard path.hasPrefix(root + "/"), !path.hasPrefix(root + "/.build"), seen.insert(path).inserted else { continue }
                inputs.append(file.url)
            }
        }
        inputs.sort { $0.path < $1.path }
        let output = context.pluginWorkDirectoryURL.appendingPathComponent("BuildSources.swift")
        // The tool's own version file: not hashed (a version bump reruns no stage), but a change rewrites the output.
        let version = context.package.directoryURL.appendingPathComponent("Sources/code-fingerprint/PackageVersion.swift")
        return [.buildCommand(
            displayName: "Fingerprinting the sources of \(target.name) (\(inputs.count) files)",
            executable: try context.tool(named: "code-fingerprint").url,
            arguments: [output.path, root] + inputs.map(\.path),
            inputFiles: inputs + [version],
            outputFiles: [output])]
    }
}
