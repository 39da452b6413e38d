import Foundation
import Manifest
import Testing
import TestSupport

@Test func inspectSafetensorsListsTensorsAndRejectsGarbage() throws {
    let box = try Sandbox()
    let json = #"{"b":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},"a":{"dtype":"F16","shape":[1],"data_offsets":[24,26]},"__metadata__":{"format":"pt"}}"#
    var data = Data()
    var n = UInt64(json.utf8.count).littleEndian
    withUnsafeBytes(of: &n) { data.append(contentsOf: $0) }
    data.append(contentsOf: json.utf8)
    data.append(Data(count: 26))
    let good = box.dir.appendingPathComponent("m.safetensors")
    try data.write(to: good)
    let r = try box.inspect(["safetensors", good.path], withRunDir: false)
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.contains("sha256\t\(SHA256.hex(data))"))
    #expect(r.stdout.contains("metadata\tformat\tpt"))
    #expect(r.stdout.contains("a\tF16\t[1]\t2\nb\tF32\t[2, 3]\t24\n"))
    let truncated = box.dir.appendingPathComponent("t.safetensors")
    try data.prefix(30).write(to: truncated)
    let bad = try box.inspect(["safetensors", truncated.path], withRunDir: false)
    #expect(bad.status == 65)
    #expect(bad.stderr.contains(truncated.path))
    let missing = try box.inspect(["safetensors", box.dir.appendingPathComponent("none.safetensors").path], withRunDir: false)
    #expect(missing.status == 66)
}

@Test func inspectStatusLineageAndMetricsShowTheManifest() throws {
    let box = try Sandbox(count: 3)
    #expect(try box.run("produce").status == 0)
    #expect(try box.run("consume").status == 0)
    let s = try box.inspect(["status"])
    #expect(s.status == 0)
    let rows = s.stdout.split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false) }
    #expect(rows.count == 3)
    #expect(rows[1].prefix(3) == ["fake-produce", "1", "done"] && rows[1][4...6] == ["3", "0", "3"])
    #expect(rows[2].prefix(3) == ["fake-consume", "2", "done"])
    let l = try box.inspect(["lineage", "artifacts/fake-consume/item-0001.txt.out"])
    #expect(l.status == 0)
    #expect(l.stdout.contains("  <- fake-consume (stage run 2, done), item 'item-0001.txt'\n"), "\(l.stdout)")
    #expect(l.stdout.contains("  read 3 text from fake-produce (stage run 1, done)\n"))
    #expect(l.stdout.contains("[1] fake-produce (stage run 1, done)\n  made 3 text, "))
    #expect(l.stdout.contains("items 'item-0000' .. 'item-0002': artifacts/fake-produce/item-0000.txt .. artifacts/fake-produce/item-0002.txt\n"))
    let shallow = try box.inspect(["lineage", "--depth", "0", "artifacts/fake-consume/item-0001.txt.out"])
    #expect(shallow.status == 0 && shallow.stdout.hasSuffix("read: not followed (--depth 0)\n"), "\(shallow.stdout)")
    let dot = try box.inspect(["lineage", "--format", "dot", "artifacts/fake-consume/item-0001.txt.out"])
    #expect(dot.status == 0 && dot.stdout.hasPrefix("digraph lineage {\n") && dot.stdout.hasSuffix("}\n"), "\(dot.stdout)")
    for bad in [["--depth", "-1"], ["--format", "svg"]] {
        let r = try box.inspect(["lineage"] + bad + ["artifacts/fake-consume/item-0001.txt.out"])
        #expect(r.status == 64, "\(bad): \(r.status) \(r.stderr)")
    }
    let unknown = try box.inspect(["lineage", "artifacts/nope"])
    #expect(unknown.status == 66 && unknown.stderr.contains("artifacts/nope"))
    let db = try ManifestDB(path: box.runDir.appendingPathComponent("manifest.sqlite").path)
    try db.recordMetric(stageRun: 1, name: "loss", step: 5, value: 0.25)
    let m = try box.inspect(["metrics", "--stage", "fake-produce"])
    #expect(m.stdout == "stage\tstage_run\tname\tstep\tvalue\nfake-produce\t1\tloss\t5\t0.25\n")
    #expect(try box.inspect(["metrics", "--stage", "fake-consume"]).stdout == "stage\tstage_run\tname\tstep\tvalue\n")
    let none = try Spawned(Tool.url("inspect"), ["status", "--run-dir", box.dir.appendingPathComponent("absent").path], in: box.dir)
    #expect(none.wait() == 66)
    #expect(!FileManager.default.fileExists(atPath: box.dir.appendingPathComponent("absent/manifest.sqlite").path))
}

/// A 0-byte manifest beside recorded artifacts: inspect used to write a fresh schema into it and report
/// "0 artifact(s) ok" (exit 0), replacing the run's history. It opens read-only now, so it is a data error
/// (65) naming the file, which stays 0 bytes, for every subcommand.
@Test func inspectRefusesAnEmptyManifestWithoutWritingIt() throws {
    let box = try Sandbox(count: 2)
    #expect(try box.run("produce").status == 0)
    let manifest = box.runDir.appendingPathComponent("manifest.sqlite")
    for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: manifest.path + suffix) }
    #expect(FileManager.default.createFile(atPath: manifest.path, contents: Data()))
    for args in [["status"], ["verify"], ["metrics"], ["lineage", "artifacts/fake-produce/item-0000.txt"]] {
        let r = try box.inspect(args)
        #expect(r.status == 65, "\(args): \(r.status) \(r.stdout)")
        #expect(r.stderr.contains(manifest.path) && r.stderr.contains("empty file (0 bytes)") && r.stderr.contains("hint"),
                "\(args): \(r.stderr)")
        #expect(!r.stdout.contains("artifact(s) ok"))
    }
    #expect(try Data(contentsOf: manifest).isEmpty)
    #expect(!FileManager.default.fileExists(atPath: manifest.path + "-wal"))
}

/// On a real manifest inspect reads without changing a byte of it.
@Test func inspectLeavesAManifestUnchanged() throws {
    let box = try Sandbox(count: 2)
    #expect(try box.run("produce").status == 0)
    let manifest = box.runDir.appendingPathComponent("manifest.sqlite")
    let before = try Data(contentsOf: manifest)
    #expect(try box.inspect(["status"]).status == 0)
    let v = try box.inspect(["verify"])
    #expect(v.status == 0 && v.stdout.contains("verify: 2 artifact(s) ok"), "\(v.stderr)")
    #expect(try Data(contentsOf: manifest) == before)
}
