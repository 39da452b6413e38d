import Foundation
import Manifest
import Testing

@Test func rerunSkipsEverythingAndAConfigChangeRerunsExactlyThatStageAndDownstream() throws {
    let box = try Sandbox(count: 6)
    #expect(try box.run("produce").status == 0)
    #expect(try box.run("consume").status == 0)

    let p1 = try box.run("produce"), c1 = try box.run("consume")
    #expect(p1.status == 0 && p1.stdout.contains("(up to date)") && p1.stderr.contains("skipping"))
    #expect(c1.status == 0 && c1.stdout.contains("(up to date)"))

    // Downstream-only change: produce skipped, consume reruns saying why.
    try box.writeConfig(count: 6, suffix: "again")
    let p2 = try box.run("produce"), c2 = try box.run("consume")
    #expect(p2.stdout.contains("(up to date)"))
    #expect(c2.status == 0 && c2.stdout.contains("done 6") && !c2.stdout.contains("up to date"))
    #expect(c2.stderr.contains("config changed (fake-stage.consume.suffix: \"consumed\" -> \"again\")"))
    #expect(try String(contentsOf: box.artifact("fake-consume", "item-0002.txt.out"), encoding: .utf8)
            == "hello item-0002 seed=1\nagain\n")

    // Upstream change: produce reruns (config), consume reruns (its input hashes changed).
    try box.writeConfig(count: 6, content: "bye", suffix: "again")
    let p3 = try box.run("produce"), c3 = try box.run("consume")
    #expect(p3.stdout.contains("done 6") && p3.stderr.contains("config changed (fake-stage.produce.content"))
    #expect(c3.stdout.contains("done 6") && c3.stderr.contains("input changed"))

    // --force reruns; --seed changes the fingerprint too.
    let p4 = try box.run("produce", ["--force"])
    #expect(p4.stdout.contains("done 6") && p4.stderr.contains("forced"))
    let p5 = try box.run("produce", ["--seed", "2"])
    #expect(p5.stdout.contains("done 6") && p5.stderr.contains("run.seed: 1 -> 2"))
    #expect(try box.run("produce", ["--seed", "2"]).stdout.contains("(up to date)"))
    // The stage's own flag overrides its section; `count` is append-only: two new items are appended
    // to the finished run (incremental refresh), the six done ones are kept; downstream sees new inputs.
    let p6 = try box.run("produce", ["--seed", "2", "--count", "8"])
    #expect(p6.status == 0 && p6.stdout.contains("done 2, skipped 6") && p6.stderr.contains("appending 2 new item(s)"))
    try expectEachItemDoneOnce(box, stage: "fake-produce", keys: keys(8))
    #expect(try box.run("produce", ["--seed", "2", "--count", "8"]).stdout.contains("(up to date)"))
    let c6 = try box.run("consume", ["--seed", "2"])
    #expect(c6.stdout.contains("done 8") && c6.stderr.contains("input changed (6 -> 8 upstream artifacts)"))
}

@Test func failedItemsGiveExitCodeOneAndAreRetriedOnRerun() throws {
    let box = try Sandbox(count: 5)
    let r = try box.run("produce", ["--fail-key", "item-0002"])
    #expect(r.status == 1)
    #expect(r.stdout.contains("done 4, skipped 0, failed 1"))
    #expect(r.stderr.contains("item-0002"))
    let again = try box.run("produce")
    #expect(again.status == 0)
    #expect(again.stdout.contains("done 1, skipped 4, failed 0"))
    try expectEachItemDoneOnce(box, stage: "fake-produce", keys: keys(5))
}

@Test func consumeBeforeProduceNamesTheMissingStage() throws {
    let box = try Sandbox(count: 3)
    let r = try box.run("consume")
    #expect(r.status == 66)
    #expect(r.stderr.contains("upstream stage 'fake-produce'"))
}
