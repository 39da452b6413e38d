import Foundation
import Manifest
import Testing

private func fileSize(_ url: URL) throws -> Int {
    (try FileManager.default.attributesOfItem(atPath: url.path)[.size] as! NSNumber).intValue
}

@Test func truncatedManifestIsAnErrorNamingTheFileAndLeftUntouched() throws {
    let box = try Sandbox(count: 4)
    #expect(try box.run("produce").status == 0)
    let manifest = box.runDir.appendingPathComponent("manifest.sqlite")
    let h = try FileHandle(forUpdating: manifest)
    try h.truncate(atOffset: UInt64(try fileSize(manifest) / 2))
    try h.close()
    let before = try Data(contentsOf: manifest)
    let r = try box.run("produce")
    #expect(r.status == 65, "\(r.stderr)")
    #expect(r.stderr.contains(manifest.path))
    #expect(try Data(contentsOf: manifest) == before)
}

@Test func newerSchemaIsRefusedNamingTheFile() throws {
    let box = try Sandbox(count: 2)
    #expect(try box.run("produce").status == 0)
    let manifest = box.runDir.appendingPathComponent("manifest.sqlite")
    var bytes = try Data(contentsOf: manifest)
    bytes.replaceSubrange(60..<64, with: [0, 0, 0, 99])   // PRAGMA user_version lives at offset 60 (big-endian)
    try bytes.write(to: manifest)
    let r = try box.run("produce")
    #expect(r.status == 65)
    #expect(r.stderr.contains(manifest.path) && r.stderr.contains("schema version 99"))
    #expect(try Data(contentsOf: manifest) == bytes)
}

@Test func editedAndMissingArtifactsAreNamedAndRepairedByARerun() throws {
    let box = try Sandbox(count: 4)
    #expect(try box.run("produce").status == 0)
    #expect(try box.run("consume").status == 0)
    let edited = box.artifact("fake-produce", "item-0001.txt"), missing = box.artifact("fake-produce", "item-0003.txt")
    try Data("tampered  item-0001 seed=1\n".utf8).write(to: edited)
    try FileManager.default.removeItem(at: missing)

    // inspect verify lists both, exit nonzero.
    let v = try box.inspect(["verify"])
    #expect(v.status == 65)
    #expect(v.stdout.contains("artifacts/fake-produce/item-0001.txt") && v.stdout.contains("artifacts/fake-produce/item-0003.txt"))
    #expect(v.stdout.contains("missing"))

    // A downstream stage that must read them refuses, naming the file; nothing recorded is lost.
    let c = try box.run("consume", ["--set", "suffix=other"])
    #expect(c.status == 65)
    #expect(c.stderr.contains("artifacts/fake-produce/item-000"))
    #expect(c.stderr.contains("rerun"))

    // The producing stage notices its outputs fail verification and redoes them.
    let p = try box.run("produce")
    #expect(p.status == 0 && p.stdout.contains("done 4"))
    #expect(p.stderr.contains("failed verification"))
    #expect(try box.inspect(["verify"]).status == 0)
    #expect(try box.run("consume").status == 0)
    let db = try ManifestDB(path: box.runDir.appendingPathComponent("manifest.sqlite").path)
    #expect(try db.stageRuns(stage: "fake-produce").count == 2)          // the first run's records are kept
}

@Test func configErrorsNameTheKeyAndTheFile() throws {
    let box = try Sandbox(count: 2, extra: "cuont = 3")
    let r = try box.run("produce")
    #expect(r.status == 65)
    #expect(r.stderr.contains("\(box.config.path):8: unknown key 'cuont' in [fake-stage.produce]"))
    #expect(r.stderr.contains("did you mean 'count'"))

    try box.writeConfig(count: 2, extra: "prefix = 7")
    let w = try box.run("produce")
    #expect(w.status == 65)
    #expect(w.stderr.contains("\(box.config.path):8: key 'prefix' in [fake-stage.produce] must be a string, found integer 7"))

    try box.writeConfig(count: 2)
    let s = try box.run("produce", ["--set", "count=lots"])
    #expect(s.status == 65 && s.stderr.contains("override 'count=lots'"), "\(s.stderr)")
    let u = try box.run("produce", ["--shard", "3/2"])
    #expect(u.status == 64)
    #expect(!FileManager.default.fileExists(atPath: box.runDir.path))   // nothing was created
}
