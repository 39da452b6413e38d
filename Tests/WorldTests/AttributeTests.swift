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
}
