import Foundation
import Manifest
import Testing
@testable import StageKit

private let definition = StageDefinition(
    name: "toy-train",
    schema: ConfigSchema(section: "toy-train", keys: [
        .integer("steps", default: 10, doc: "training steps"),
        .integer("checkpoint_every", default: 3, doc: "K"),
    ]),
    sourceFingerprint: "toy-1")

/// A toy "training" loop: the state is a running sum; resumes from the newest checkpoint; can be told
/// to stop (as a signal would) after some step. Returns the final state file.
private func train(_ ctx: StageContext, stopAfter: Int?, visited: inout [Int]) throws -> [NewArtifact] {
    var step = 0, sum = 0
    if let (s, files) = try ctx.checkpoints.latest() {
        step = s
        sum = Int(String(decoding: try ctx.runner.readVerified(files[0], upstream: "self"), as: UTF8.self))!
    }
    let steps = ctx.runner.config.int("steps"), every = ctx.runner.config.int("checkpoint_every")
    while step < steps {
        step += 1
        sum += step
        visited.append(step)
        try ctx.metric("sum", step: step, Double(sum))
        if CheckpointStore.isDue(step: step, every: every) {
            let url = ctx.checkpoints.directory(step: step).appendingPathComponent("state.txt")
            try AtomicWrite.write(Data("\(sum)".utf8), to: url)
            try ctx.checkpoints.record(step: step, files: [url])
        }
        if step == stopAfter { throw StageError.interrupted(stage: "toy-train", signal: 15, resume: "again") }
    }
    return [try ctx.runner.writeArtifact(Data("\(sum)".utf8), name: "final.txt", kind: "state")]
}

@Test func wholeStageResumesFromLastCheckpointAndEndsLikeAnUninterruptedRun() throws {
    let box = try Sandbox()
    try "[run]\nname = \"t\"\n[toy-train]\nsteps = 10\n".write(to: box.config, atomically: true, encoding: .utf8)
    let options = try CommonOptions.parse(["--config", box.config.path, "--run-dir", box.runDir.path])
    let quiet = Log(stage: "toy-train", level: .error, sink: { _ in })
    var visited: [Int] = []
    do {
        let r = try StageRunner(definition, options: options, log: quiet)
        #expect(throws: StageError.interrupted(stage: "toy-train", signal: 15, resume: "again")) {
            try r.runWhole(inputs: []) { try train($0, stopAfter: 7, visited: &visited) }
        }
        #expect(try r.db.stageRuns(stage: "toy-train").first?.status == .interrupted)
    }
    #expect(visited == Array(1...7))
    visited = []
    let r2 = try StageRunner(definition, options: options, log: quiet)
    let summary = try r2.runWhole(inputs: []) { ctx in
        #expect(ctx.resumed)
        return try train(ctx, stopAfter: nil, visited: &visited)
    }
    #expect(visited == Array(7...10))          // resumed after the step-6 checkpoint
    #expect(summary.done == 1)
    #expect(try String(contentsOf: box.artifact("toy-train", "final.txt"), encoding: .utf8) == "55")
    let run = try #require(try r2.db.stageRuns(stage: "toy-train").first)
    #expect(run.status == .done)
    #expect(try r2.db.stageRuns(stage: "toy-train").count == 1)
    // Skipped when nothing changed; an edited checkpoint is passed over for an older one.
    #expect(try r2.runWhole(inputs: []) { _ in Issue.record("body ran"); return [] }.upToDate)
    try Data("999".utf8).write(to: box.artifact("toy-train", "checkpoints/step-00000009/state.txt"))
    let latest = try #require(try CheckpointStore(runner: r2, stageRun: run.id).latest())
    #expect(latest.step == 6)
}

@Test func wholeStageRefusesShards() throws {
    let box = try Sandbox()
    try "[run]\nname = \"t\"\n[toy-train]\n".write(to: box.config, atomically: true, encoding: .utf8)
    let options = try CommonOptions.parse(["--config", box.config.path, "--run-dir", box.runDir.path, "--shard", "0/2"])
    let r = try StageRunner(definition, options: options, log: Log(stage: "toy-train", level: .error, sink: { _ in }))
    #expect(throws: StageError.shardUnsupported(stage: "toy-train")) { try r.runWhole(inputs: []) { _ in [] } }
}

@Test func aChangedExternalInputRerunsAWholeStageAndSaysWhy() throws {
    let box = try Sandbox()
    try "[run]\nname = \"t\"\n[toy-train]\nsteps = 2\n".write(to: box.config, atomically: true, encoding: .utf8)
    let options = try CommonOptions.parse(["--config", box.config.path, "--run-dir", box.runDir.path])
    let lines = Lines()
    var visited: [Int] = []
    /// One process's run of the stage with the given external input hash (the runner holds the stage lock while alive).
    func run(_ hash: String, _ body: (StageContext) throws -> [NewArtifact]) throws -> StageSummary {
        let r = try StageRunner(definition, options: options, log: Log(stage: "toy-train", level: .info, sink: { lines.add($0) }))
        r.externalInputHashes = [hash]
        return try r.runWhole(inputs: [], body: body)
    }
    #expect(try run("aaa") { try train($0, stopAfter: nil, visited: &visited) }.done == 1)
    // The same external file: up to date.
    #expect(try run("aaa") { _ in Issue.record("body ran"); return [] }.upToDate)
    // A new shipped file (another hash): the stage runs again, naming the changed input.
    #expect(try run("bbb") { try train($0, stopAfter: nil, visited: &visited) }.done == 1)
    #expect(lines.all.contains { $0.contains("input changed") }, "\(lines.all)")
}

@Test func pruningKeepsTheNewestCheckpointsAndForgetsTheRestOnDiskAndInTheManifest() throws {
    let box = try Sandbox()
    try "[run]\nname = \"t\"\n[toy-train]\nsteps = 10\ncheckpoint_every = 2\n".write(to: box.config, atomically: true, encoding: .utf8)
    let options = try CommonOptions.parse(["--config", box.config.path, "--run-dir", box.runDir.path])
    let r = try StageRunner(definition, options: options, log: Log(stage: "toy-train", level: .error, sink: { _ in }))
    var visited: [Int] = []
    _ = try r.runWhole(inputs: []) { ctx in
        let out = try train(ctx, stopAfter: nil, visited: &visited)
        #expect(try ctx.checkpoints.steps() == [2, 4, 6, 8, 10])
        try ctx.checkpoints.prune(keepingNewest: 2)
        #expect(try ctx.checkpoints.steps() == [8, 10])
        #expect(try ctx.checkpoints.latest()?.step == 10)
        try ctx.checkpoints.prune(keepingNewest: 2)      // nothing more to prune
        #expect(try ctx.checkpoints.steps() == [8, 10])
        return out
    }
    let fm = FileManager.default
    #expect(!fm.fileExists(atPath: box.artifact("toy-train", "checkpoints/step-00000006").path))
    #expect(fm.fileExists(atPath: box.artifact("toy-train", "checkpoints/step-00000008/state.txt").path))
    #expect(try r.db.verify(runDirectory: box.runDir).isEmpty)
}

@Test func filesWrittenByAnEarlierProcessAreRecordedWithTheirHashes() throws {
    let box = try Sandbox()
    try "[run]\nname = \"t\"\n[toy-train]\n".write(to: box.config, atomically: true, encoding: .utf8)
    let options = try CommonOptions.parse(["--config", box.config.path, "--run-dir", box.runDir.path])
    let r = try StageRunner(definition, options: options, log: Log(stage: "toy-train", level: .error, sink: { _ in }))
    #expect(try r.writtenArtifacts(in: "curve", kind: "grid").isEmpty)
    let a = try r.writeArtifact(Data("one".utf8), name: "curve/step-2.png", kind: "grid")
    let b = try r.writeArtifact(Data("two".utf8), name: "curve/step-1.png", kind: "grid")
    let found = try r.writtenArtifacts(in: "curve", kind: "grid")
    #expect(found.map(\.relativePath) == [b.relativePath, a.relativePath])
    #expect(found.map(\.sha256) == [b.sha256, a.sha256] && found.map(\.bytes) == [3, 3])
}
