import ArgumentParser
import Foundation
import Manifest
import StageKit

/// `fake-stage produce`: items `<prefix>-0000 ... <prefix>-<count-1>`, each writes
/// `artifacts/fake-produce/<key>.txt` = "<content> <key> seed=<seed>\n".
struct Produce: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Write one small file per item ([fake-stage.produce]).",
                                                    discussion: definition.help())

    static let definition = StageDefinition(
        name: "fake-produce",
        schema: ConfigSchema(section: "fake-stage.produce", keys: [
            // Append-only, like a growing prompt list: raising it appends items to a finished run
            // (incremental refresh); lowering it keeps finished items. So it stays out of the fingerprint.
            .integer("count", default: 8, doc: "number of items (append-only)", in: 0...1_000_000, affectsOutput: false),
            ConfigKey("prefix", .string, default: .string("item"), doc: "item key prefix"),
            ConfigKey("content", .string, default: .string("hello"), doc: "text written into every file"),
        ]),
        sourceFingerprint: BuildSources.fingerprint)

    @OptionGroup var common: CommonOptions
    @Option(help: "Override [fake-stage.produce].count.") var count: Int?
    @Option(help: "Sleep this many milliseconds in each item (lets tests interrupt mid-way).") var sleepMs = 0
    @Option(help: "Make the item with this key fail (repeatable; for testing).") var failKey: [String] = []

    func validate() throws {
        if sleepMs < 0 { throw ValidationError("--sleep-ms must be >= 0, got \(sleepMs)") }
        if let c = count, c < 0 { throw ValidationError("--count must be >= 0, got \(c)") }
    }

    func run() throws {
        try StageMain.run(Self.definition, options: common, flagOverrides: count.map { ["count=\($0)"] } ?? []) { r in
            let prefix = r.config.string("prefix"), content = r.config.string("content")
            let keys = (0..<r.config.int("count")).map { "\(prefix)-" + String(format: "%04d", $0) }
            try r.runItems(keys: keys, inputs: []) { item in
                if sleepMs > 0 { usleep(useconds_t(sleepMs) * 1000) }
                if failKey.contains(item.key) { throw FakeFailure(key: item.key) }
                let text = "\(content) \(item.key) seed=\(r.run.seed)\n"
                return [try item.write(Data(text.utf8), name: "\(item.key).txt", kind: "text")]
            }
        }
    }
}

struct FakeFailure: Error, CustomStringConvertible {
    let key: String
    var description: String { "item \(key) was asked to fail (--fail-key)" }
}
