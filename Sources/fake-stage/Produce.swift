import ArgumentParser
import Foundation
import Manifest
import StageKit

/// `fake-stage produce`: items `<prefix>-0000 ... <prefix>-<count-1>`, each writes
/// `artifacts/fake-produce/<key>.txt` = "<content> <key> seed=<seed>\n".
struct Produce: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Write one small file per item ([fake-stage.produce]).",
                                                    discussion: definition.help(shardable: true))

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
    @Flag(help: "Add the reduce item `_summary` (after every other item: writes how many item files exist).") var reduce = false
    @Option(help: ArgumentHelp("Make every item a long one of this many steps (each sleeps --sleep-ms), its step saved in its "
                               + "checkpoint folder after each and resumed from there; <key>.resumed records the step it resumed from."))
    var itemSteps = 0

    func validate() throws {
        if sleepMs < 0 { throw ValidationError("--sleep-ms must be >= 0, got \(sleepMs)") }
        if itemSteps < 0 { throw ValidationError("--item-steps must be >= 0, got \(itemSteps)") }
        if let c = count, c < 0 { throw ValidationError("--count must be >= 0, got \(c)") }
    }

    func run() throws {
        try StageMain.run(Self.definition, options: common, flagOverrides: count.map { ["count=\($0)"] } ?? []) { r in
            let prefix = r.config.string("prefix"), content = r.config.string("content")
            let keys = (0..<r.config.int("count")).map { "\(prefix)-" + String(format: "%04d", $0) }
            let summary = Self.summaryKey
            try r.runItems(keys: keys + (reduce ? [summary] : []), inputs: [], reduce: reduce ? [summary] : []) { item in
                if itemSteps > 0 && item.key != summary {
                    let resumed = try Self.longItem(item, steps: itemSteps, sleepMs: sleepMs)
                    let text = "\(content) \(item.key) seed=\(r.run.seed) steps=\(itemSteps)\n"
                    return [try item.write(Data(text.utf8), name: "\(item.key).txt", kind: "text"),
                            try item.write(Data("\(resumed)\n".utf8), name: "\(item.key).resumed", kind: "text")]
                }
                if sleepMs > 0 { usleep(useconds_t(sleepMs) * 1000) }
                if item.key == summary {
                    let dir = r.layout.artifacts(r.stage).path
                    let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix(prefix + "-") && $0.hasSuffix(".txt") }
                    return [try item.write(Data("summary \(files.count)\n".utf8), name: "\(summary).txt", kind: "text")]
                }
                if failKey.contains(item.key) { throw FakeFailure(key: item.key) }
                let text = "\(content) \(item.key) seed=\(r.run.seed)\n"
                return [try item.write(Data(text.utf8), name: "\(item.key).txt", kind: "text")]
            }
        }
    }
}

extension Produce {
    /// The reduce item of `--reduce`.
    static let summaryKey = "_summary"

    /// `--item-steps`: steps from the one saved in the item's checkpoint folder (`step`, written after each step) to
    /// `steps`, checking for a signal between them; returns the step it resumed from (0: a fresh start). Each step
    /// records metric `<key>/step` (so a journal shard's restored metrics can be checked).
    static func longItem(_ item: ItemContext, steps: Int, sleepMs: Int) throws -> Int {
        try FileManager.default.createDirectory(at: item.checkpoints, withIntermediateDirectories: true)
        let file = item.checkpoints.appendingPathComponent("step")
        let start = (try? String(contentsOf: file, encoding: .utf8)).flatMap { Int($0) } ?? 0
        if start > 0 {
            item.runner.log.info("\(item.key): resumed at step \(start)")
            item.restoreMetrics((1...start).map { (name: "\(item.key)/step", step: $0, value: Double($0)) })
        }
        var step = start
        while step < steps {
            if sleepMs > 0 { usleep(useconds_t(sleepMs) * 1000) }
            step += 1
            try item.metric("\(item.key)/step", step: step, Double(step))
            try AtomicWrite.write(Data("\(step)".utf8), to: file)
            try item.checkInterrupt()
        }
        return start
    }
}

struct FakeFailure: Error, CustomStringConvertible {
    let key: String
    var description: String { "item \(key) was asked to fail (--fail-key)" }
}
