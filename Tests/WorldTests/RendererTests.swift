import Testing
import Imaging
@testable import World

@Test func sameInputsGiveSameBytesAcrossCallsAndThreadCounts() throws {
    let reqs = (0..<6).map { k in
        RenderRequest(subject: Subject(category: ObjectCategory.allCases[k], instance: UInt64(k)),
                      scene: Scene(background: Background.allCases[k], seed: UInt64(k)),
                      pose: .random(seed: 3, index: UInt64(k)), size: 32)
    }
    let one = try Renderer.renderBatch(reqs, threads: 1)
    let two = try Renderer.renderBatch(reqs, threads: 2)
    #expect(one == two)
    #expect(try Renderer.render(reqs[2]) == one[2])
    // And different seeds do change the picture.
    var other = reqs[2]; other.subject = Subject(category: other.subject!.category, instance: 77)
    #expect(try Renderer.render(other).image != one[2].image)
}

@Test(arguments: [32, 64])
func everyCategoryRendersWithBodyAndDecal(size: Int) throws {
    for c in ObjectCategory.allCases {
        let r = try render(Subject(category: c, instance: 5), .clean, size: size)
        #expect(r.image.width == size && r.image.height == size && r.image.channels == 3)
        #expect(r.mask.count == size * size && r.parts.count == size * size)
        let covered = r.mask.filter { $0 > 0.5 }.count
        #expect(covered > size * size / 8, "\(c) covers only \(covered) pixels")
        #expect(r.parts.contains(PartKind.body.rawValue), "\(c) has no body pixels")
        #expect(r.parts.contains(PartKind.decal.rawValue), "\(c) has no decal pixels")
    }
}

@Test func masksAgreeWithImages() throws {
    for (k, c) in ObjectCategory.allCases.enumerated() {
        let bg = Background.allCases[k % Background.allCases.count]
        let pose = Pose.random(seed: 11, index: UInt64(k))
        let r = try render(Subject(category: c, instance: 2), bg, pose: pose, size: 32, seed: 4)
        let empty = try render(nil, bg, pose: pose, size: 32, seed: 4)
        for i in 0..<(32 * 32) {
            let px = Array(r.image.pixels[i * 3..<(i * 3 + 3)]), bgpx = Array(empty.image.pixels[i * 3..<(i * 3 + 3)])
            if r.mask[i] == 0 { #expect(px == bgpx, "\(c) pixel \(i): mask 0 but image differs from background") }
            if r.parts[i] == 0 { #expect(r.mask[i] <= 0.5, "\(c) pixel \(i): background part with coverage \(r.mask[i])") }
            else { #expect(r.mask[i] >= 0.5, "\(c) pixel \(i): part \(r.parts[i]) with coverage \(r.mask[i])") }
        }
        // Fully covered pixels are mostly different from the background there.
        let full = (0..<(32 * 32)).filter { r.mask[$0] == 1 }
        let differing = full.filter { r.image.pixels[$0 * 3..<($0 * 3 + 3)] != empty.image.pixels[$0 * 3..<($0 * 3 + 3)] }
        #expect(Double(differing.count) > 0.9 * Double(full.count))
        #expect(empty.mask.allSatisfy { $0 == 0 } && empty.parts.allSatisfy { $0 == 0 })
    }
}

@Test func badSizesAreTypedErrors() throws {
    #expect(throws: WorldError.badResolution(width: 30, height: 30)) { _ = try render(Subject(category: .mug, instance: 0), size: 30) }
    var r = RenderRequest(subject: nil, scene: .clean, size: 32, supersample: 9)
    #expect(throws: WorldError.badSupersample(9)) { _ = try Renderer.render(r) }
    r.supersample = 1; r.width = 48
    #expect(try Renderer.render(r).image.width == 48)
}

@Test func subjectsOfOneCategoryAreToldApartByDecalPatternAndColour() {
    let keys = Set((0..<40).map { i -> String in
        let a = Subject(category: .mug, instance: UInt64(i)).appearance
        return "\(a.decal)-\(a.body.kind)-\(a.main)-\(a.decalColor)"
    })
    #expect(keys.count >= 38)
    // Decal colour always differs from the body colours.
    for i in 0..<200 {
        let a = Subject(category: .can, instance: UInt64(i)).appearance
        #expect(a.decalColor != a.main && a.decalColor != a.secondary && a.main != a.secondary)
    }
}
