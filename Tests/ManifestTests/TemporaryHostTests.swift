import Foundation
import Testing
@testable import Manifest

/// Temporaries on storage several hosts share (shard journals): a temporary names its host as well as its pid, and
/// the cleanup judges only this host's by their pid.
@Suite struct TemporaryHostTests {
    @Test func temporariesOfAnotherHostAreNeverRemoved() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let here = AtomicWrite.hostTag, other = "other.host_" + String(here.reversed())
        let deadHere = dir.url.appendingPathComponent(".atomicwrite-\(Int32.max)@\(here)-ab12-real.png")
        let deadThere = dir.url.appendingPathComponent(".atomicwrite-\(Int32.max)@\(other)-ab12-real.png")
        let liveThere = dir.url.appendingPathComponent(".atomicwrite-\(getpid())@\(other)-cd34-real.png")
        let imageDeadHere = dir.url.appendingPathComponent(".sheet.png.tmp-\(Int32.max)@\(here)-987")
        let imageDeadThere = dir.url.appendingPathComponent(".sheet.png.tmp-\(Int32.max)@\(other)-987")
        for u in [deadHere, deadThere, liveThere, imageDeadHere, imageDeadThere] { try Data("x".utf8).write(to: u) }
        #expect(try AtomicWrite.removeLeftoverTemporaries(under: dir.url) == 2)
        let left = try FileManager.default.contentsOfDirectory(atPath: dir.url.path).sorted()
        #expect(left == [deadThere, liveThere, imageDeadThere].map(\.lastPathComponent).sorted())
    }

    @Test func aWriterNamesItsHostAndPid() throws {
        let name = AtomicWrite.temporaryName(for: "x-y.png")
        #expect(name.hasPrefix(".atomicwrite-\(getpid())@\(AtomicWrite.hostTag)-") && name.hasSuffix("-x-y.png"))
        #expect(AtomicWrite.writer(name)?.pid == getpid() && AtomicWrite.writer(name)?.host == AtomicWrite.hostTag)
        #expect(AtomicWrite.tag("node-07.cluster") == "node_07.cluster")
        #expect(!AtomicWrite.hostTag.contains("-") && !AtomicWrite.hostTag.isEmpty)
        #expect(AtomicWrite.writer(".atomicwrite-12@-x") == nil)
    }
}
