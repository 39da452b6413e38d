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

/// issue 19 item 9: after an upstream stage reruns with other outputs, `inspect status` marks the stage that read the
/// old ones stale, a stage reading that stale stage refuses naming it (exit 66), and `--dry-run` says what a stage
/// would do and why without doing it. A forced rerun that writes the same bytes leaves nothing stale.
@Test func staleStagesAreShownRefusedAndDryRunSaysWhy() throws {
    let box = try Sandbox(count: 3)
    for stage in ["produce", "consume", "tally"] { #expect(try box.run(stage).status == 0, "\(stage)") }
    func status() throws -> [String: String] {
        let lines = try box.inspect(["status"]).stdout.split(separator: "\n").dropFirst()
        return Dictionary(uniqueKeysWithValues: lines.map { l in
            let f = l.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            return (f[0], f[1] + " " + f[2])
        })
    }
    #expect(try status() == ["fake-produce": "1 done", "fake-consume": "2 done", "fake-tally": "3 done"])
    #expect(try box.run("produce", ["--force"]).status == 0)                // same bytes: nothing goes stale
    #expect(try status() == ["fake-produce": "4 done", "fake-consume": "2 done", "fake-tally": "3 done"])

    try box.writeConfig(count: 3, content: "bye")
    let dry = try box.run("produce", ["--dry-run"])
    #expect(dry.status == 0 && dry.stdout.contains("fake-produce: dry run: would run a new stage run: config changed")
            && dry.stdout.contains("(dry run)"), "\(dry.stdout)")
    #expect(try status()["fake-produce"] == "4 done")                        // nothing ran
    #expect(try box.run("produce").status == 0)
    #expect(try status() == ["fake-produce": "5 done", "fake-consume": "2 stale (upstream fake-produce changed)", "fake-tally": "3 done"])

    let plan = try box.inspect(["plan"]).stdout
    #expect(plan.contains("fake-consume\trerun: upstream fake-produce changed: its stage run 5 rewrote artifacts/fake-produce/")
            && plan.contains("fake-tally\tup to date with its upstream (stage run 3)"), "\(plan)")
    let refused = try box.run("tally")
    #expect(refused.status == 66 && refused.stderr.contains("upstream stage 'fake-consume' is stale (upstream fake-produce changed")
            && refused.stderr.contains("rerun `fake-stage consume` first"), "\(refused.stderr)")
    let why = try box.run("consume", ["--dry-run"])
    #expect(why.status == 0 && why.stdout.contains("would run a new stage run: input changed"), "\(why.stdout)")
    #expect(try box.run("consume").status == 0)
    #expect(try status()["fake-tally"] == "3 stale (upstream fake-consume changed)")
    #expect(try box.run("tally").status == 0)
    #expect(try status() == ["fake-produce": "5 done", "fake-consume": "6 done", "fake-tally": "7 done"])
    let upToDate = try box.run("tally", ["--dry-run"])
    #expect(upToDate.stdout.contains("fake-tally: dry run: up to date: stage run 7"), "\(upToDate.stdout)")
}

/// Issue 19 item 10: the code version is the build's source fingerprint (no hand-bumped string); a different code
/// version reruns the stage saying "code changed" and how to keep the old outputs, and `--code-version` pins it.
@Test func aCodeChangeRerunsTheStageAndCodeVersionPinsTheOldOne() throws {
    let box = try Sandbox(count: 3)
    let first = try box.run("produce")
    #expect(first.status == 0)
    // The build's code version, as the stage run recorded it: src. + 12 hex digits of BuildSources.fingerprint.
    let db = try ManifestDB(path: box.runDir.appendingPathComponent("manifest.sqlite").path)
    let built = try #require(try db.runs().first?.codeVersion)
    #expect(built.wholeMatch(of: /src\.[0-9a-f]{12}/) != nil, "code version \(built)")

    // Another build (simulated by the override) reruns, naming both versions and the way back.
    let changed = try box.run("produce", ["--code-version", "src.000000000000"])
    #expect(changed.status == 0 && changed.stdout.contains("done 3"))
    #expect(changed.stderr.contains("code changed (\(built) -> src.000000000000; to keep stage run 1's outputs instead, "
                                    + "rerun with --code-version \(built))"), "\(changed.stderr)")
    // Pinned to that version, the stage is up to date; the build's own version reruns again.
    #expect(try box.run("produce", ["--code-version", "src.000000000000"]).stdout.contains("(up to date)"))
    let back = try box.run("produce", ["--dry-run"])
    #expect(back.stdout.contains("code changed (src.000000000000 -> \(built)"))
    #expect(try box.run("produce", ["--code-version", "has space"]).status == 64)
}
