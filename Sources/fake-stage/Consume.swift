import ArgumentParser
import Foundation
import Manifest
import StageKit

/// `fake-stage consume`: one item per file of the newest finished `fake-produce` run; writes
/// `artifacts/fake-consume/<name>.out` = input text + "<suffix>\n".
struct Consume: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Derive one file per produced file ([fake-stage.consume]).",
                                                    discussion: definition.help(shardable: true))

    static let definition = StageDefinition(
        name: "fake-consume",
        schema: ConfigSchema(section: "fake-stage.consume", keys: [
            ConfigKey("suffix", .string, default: .string("consumed"), doc: "text appended to every input"),
        ]),
        sourceFingerprint: BuildSources.fingerprint,
        upstream: ["fake-produce"])

    @OptionGroup var common: CommonOptions
    @Option(help: "Sleep this many milliseconds in each item.") var sleepMs = 0

    func validate() throws {
        if sleepMs < 0 { throw ValidationError("--sleep-ms must be >= 0, got \(sleepMs)") }
    }

    func run() throws {
        try StageMain.run(Self.definition, options: common) { r in
            let inputs = try r.allUpstreamOutputs()
            var byKey: [String: ArtifactRecord] = [:]
            for a in inputs { byKey[(a.relativePath as NSString).lastPathComponent] = a }
            let suffix = r.config.string("suffix")
            try r.runItems(keys: byKey.keys.sorted(), inputs: inputs) { item in
                if sleepMs > 0 { usleep(useconds_t(sleepMs) * 1000) }
                let data = try r.readVerified(byKey[item.key]!, upstream: "fake-produce")
                let text = String(decoding: data, as: UTF8.self) + suffix + "\n"
                return [try item.write(Data(text.utf8), name: "\(item.key).out", kind: "text")]
            }
        }
    }
}
