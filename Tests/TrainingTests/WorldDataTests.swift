import Foundation
import Testing
import TensorCore
import World
@testable import Training

@Suite struct WorldDataTests {
    let cfg = WorldDataConfig(resolution: 16, split: .train, subjectsPerCategory: 4)

    @Test func aBatchIsAPureFunctionOfSeedAndStep() throws {
        let a = try WorldData.batch(seed: 7, step: 3, size: 6, config: cfg, threads: 1)
        let b = try WorldData.batch(seed: 7, step: 3, size: 6, config: cfg, threads: 2)
        #expect(a.images == b.images && a.labels == b.labels && a.prompts == b.prompts)
        let c = try WorldData.batch(seed: 7, step: 4, size: 6, config: cfg)
        #expect(c.images != a.images)
        let d = try WorldData.batch(seed: 8, step: 3, size: 6, config: cfg)
        #expect(d.images != a.images)
        // A row does not depend on the batch size.
        let e = try WorldData.batch(seed: 7, step: 3, size: 2, config: cfg)
        #expect(Array(a.images.scalars[0..<e.images.count]) == e.images.scalars)
    }

    @Test func rowsAreConsistent() throws {
        let b = try WorldData.batch(seed: 1, step: 0, size: 24, config: cfg)
        #expect(b.images.shape == [24, 3, 16, 16])
        #expect(b.images.scalars.allSatisfy { $0 >= -1 && $0 <= 1 })
        for i in 0..<24 {
            let s = b.subjects[i]
            #expect(Int(b.labels[i]) == s.category.index)
            #expect(s.split == .train && s.instance < 10, "first 4 training instances of the category")
            #expect(b.prompts[i].contains(s.category.noun) && b.prompts[i].contains(b.backgrounds[i].phrase))
        }
        #expect(Set(b.labels).count > 5, "categories vary")
    }

    @Test func validationBatchesHoldOnlyValidationSubjects() throws {
        let v = WorldDataConfig(resolution: 16, split: .validation, subjectsPerCategory: 3)
        let b = try WorldData.batch(seed: 2, step: 1, size: 20, config: v)
        #expect(b.subjects.allSatisfy { $0.split == .validation })
    }

    /// A mirrored reference is the left-right mirror image of the upright one (the canonical pose is centred, so
    /// flipping the object flips the picture), up to the renderer's float rounding; and a batch reports its poses.
    @Test func mirroredReferencesAreTheMirrorImage() throws {
        let subjects = [Subject(category: .sneaker, instance: 3), Subject(category: .mug, instance: 1)]
        let up = try WorldData.references(subjects, resolution: 16)
        var flipped = Pose.canonical
        flipped.flipped = true
        let mirrored = try WorldData.references(subjects, resolution: 16, poses: [flipped, .canonical])
        var worst: Float = 0, asymmetry: Float = 0
        for c in 0..<3 { for y in 0..<16 { for x in 0..<16 {
            let a = up.scalars[(c * 16 + y) * 16 + (15 - x)], m = mirrored.scalars[(c * 16 + y) * 16 + x]
            worst = max(worst, abs(a - m))
            asymmetry = max(asymmetry, abs(a - up.scalars[(c * 16 + y) * 16 + x]))
        } } }
        #expect(worst < 1e-3, "mirrored vs flipped upright: \(worst)")
        #expect(asymmetry > 0.1, "the sneaker is asymmetric, so the test can fail: \(asymmetry)")
        let second = 3 * 16 * 16
        #expect(Array(mirrored.scalars[second...]) == Array(up.scalars[second...]), "an unflagged subject stays upright")
        let b = try WorldData.batch(seed: 1, step: 0, size: 24, config: cfg)
        #expect(b.poses.count == 24 && b.poses.contains { $0.flipped } && b.poses.contains { !$0.flipped })
        var still = cfg
        still.randomPose = false
        #expect(try WorldData.batch(seed: 1, step: 0, size: 4, config: still).poses == Array(repeating: .canonical, count: 4))
    }

    @Test func badResolutionIsATypedError() {
        let bad = WorldDataConfig(resolution: 20)
        #expect(throws: WorldError.self) { _ = try WorldData.batch(seed: 1, step: 0, size: 1, config: bad) }
    }
}
