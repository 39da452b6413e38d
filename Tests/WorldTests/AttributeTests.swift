import Testing
@testable import World

@Suite struct WorldAttributeTests {
    @Test func classListsFollowTheWorldsEnums() {
        #expect(WorldAttribute.category.classNames.count == 13 && WorldAttribute.mainColor.classNames.count == 12)
        #expect(WorldAttribute.bodyPattern.classNames == ["solid", "stripes", "dots", "checker", "gradient"])
        #expect(WorldAttribute.decal.classNames.count == 8 && WorldAttribute.background.classNames.first == "clean")
        #expect(WorldAttribute.identity == [.category, .mainColor, .bodyPattern] && WorldAttribute.detail == [.decal, .decalColor])
        #expect(!WorldAttribute.subject.contains(.background) && WorldAttribute.subject.count == 7)
    }

    @Test func labelsReadTheAppearanceOrItsEditedCopy() {
        let s = Subject(category: .lamp, instance: 29)
        var a = s.appearance
        for attr in WorldAttribute.allCases {
            let l = attr.label(s, background: .desert)
            #expect((0..<attr.classNames.count).contains(l))
        }
        #expect(WorldAttribute.category.classNames[WorldAttribute.category.label(s, background: .clean)] == "lamp")
        #expect(WorldAttribute.decal.classNames[WorldAttribute.decal.label(s, background: .clean)] == a.decal.rawValue)
        #expect(WorldAttribute.background.classNames[WorldAttribute.background.label(s, background: .nightSky)] == "night sky")
        a.decal = a.decal == .star ? .moon : .star
        #expect(WorldAttribute.decal.classNames[WorldAttribute.decal.label(s, appearance: a, background: .clean)] == a.decal.rawValue)
    }

    @Test func mainColourIsAmbiguousOnlyWhenEveryPartPaintsBothColoursEvenly() {
        let mug = Subject(category: .mug, instance: 9), teddy = Subject(category: .teddy, instance: 9)
        var a = mug.appearance
        a.body.kind = .stripes; a.accent.kind = .stripes
        #expect(WorldAttribute.mainColorIsAmbiguous(mug, appearance: a))
        #expect(!WorldAttribute.mainColorIsAmbiguous(teddy, appearance: a), "the teddy's head is painted in the main colour alone")
        a.accent.kind = .solid
        #expect(!WorldAttribute.mainColorIsAmbiguous(mug, appearance: a), "a solid accent shows the secondary colour alone")
        a.accent.kind = .stripes; a.body.kind = .dots
        #expect(!WorldAttribute.mainColorIsAmbiguous(mug, appearance: a), "dots paint mostly the main colour")
        a.body.kind = .gradient; a.body.angle = 0
        #expect(WorldAttribute.mainColorIsAmbiguous(mug, appearance: a), "the random flip mirrors a horizontal gradient")
        a.body.angle = 45
        #expect(!WorldAttribute.mainColorIsAmbiguous(mug, appearance: a), "a tilted gradient keeps the main colour on top")
    }

    @Test func aSwappedReadingKeepsTheMainColourOnlyWhereTheWorldCannotTell() {
        let swapped = ["main_color": 4, "secondary_color": 2]
        #expect(WorldAttribute.keepsMainColor(swapped, main: 2, secondary: 4, ambiguous: true))
        #expect(!WorldAttribute.keepsMainColor(swapped, main: 2, secondary: 4, ambiguous: false))
        #expect(!WorldAttribute.keepsMainColor(["main_color": 4, "secondary_color": 7], main: 2, secondary: 4, ambiguous: true))
        #expect(WorldAttribute.keepsMainColor(["main_color": 2, "secondary_color": 9], main: 2, secondary: 4, ambiguous: false))
    }
}
