import ArgumentParser
import Foundation
import StageKit

/// `fake-stage tally`: one item reading every file of the newest finished `fake-consume` run and writing
/// `artifacts/fake-tally/tally.txt` = "<files> files, <bytes> bytes\n": the third stage of the chain, so tests can
/// see a stage refuse an upstream that is stale with its own upstream (`StageError.staleUpstream`).
/// Its section `[fake-stage.tally]` may be absent (no keys).
struct Tally: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Count the consumed files (reads fake-consume).",
                                                    discussion: definition.help(shardable: true))

    static let definition = StageDefinition(
        name: "fake-tally", schema: ConfigSchema(section: "fake-stage.tally", keys: []),
        sourceFingerprint: BuildSources.fingerprint, upstream: ["fake-consume"])

    @OptionGroup var common: CommonOptions

    func run() throws {
        try StageMain.run(Self.definition, options: common) { r in
            let inputs = try r.allUpstreamOutputs()
            try r.runItems(keys: ["tally"], inputs: inputs) { item in
                let bytes = try inputs.map { try r.readVerified($0, upstream: "fake-consume").count }.reduce(0, +)
                return [try item.write(Data("\(inputs.count) files, \(bytes) bytes\n".utf8), name: "tally.txt", kind: "text")]
            }
        }
    }
}
