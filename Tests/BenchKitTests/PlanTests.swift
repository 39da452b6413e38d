import BenchKit
import Testing
import World

@Suite struct PlanTests {
    @Test func fullPlanHas25PromptsOfBothKindsOnTestSubjects() {
        let plan = BenchPlanner.world(subjects: 30, prompts: 25, imagesPerPrompt: 2, seed: 7)
        #expect(plan.count == 30)
        #expect(Set(plan.map(\.id)).count == 30)
        for s in plan {
            #expect(s.worldSubject?.split == .test)
            #expect(s.prompts.count == 25)
            #expect(s.prompts.filter { $0.kind == "scene" }.count == 20)
            #expect(s.prompts.filter { $0.kind == "attribute" }.count == 5)
            #expect(Set(s.prompts.map(\.text)).count == 25, "prompts of \(s.id) repeat")
            #expect(s.prompts.allSatisfy { $0.seeds.count == 2 && $0.text.contains(s.noun) })
        }
        // 30 subjects over 13 categories: every category appears, the first 13 are distinct categories.
        #expect(Set(plan.prefix(13).compactMap(\.category)).count == 13)
    }

    @Test func planIsAPureFunctionOfConfigAndSeed() {
        let a = BenchPlanner.world(subjects: 5, prompts: 10, imagesPerPrompt: 3, seed: 1)
        #expect(a == BenchPlanner.world(subjects: 5, prompts: 10, imagesPerPrompt: 3, seed: 1))
        let b = BenchPlanner.world(subjects: 5, prompts: 10, imagesPerPrompt: 3, seed: 2)
        #expect(a.map(\.id) == b.map(\.id))
        #expect(a.flatMap { $0.prompts.flatMap(\.seeds) } != b.flatMap { $0.prompts.flatMap(\.seeds) })
        // Smaller plans are prefixes: the same subject/prompt/k keeps its seed whatever the sizes.
        let small = BenchPlanner.world(subjects: 2, prompts: 3, imagesPerPrompt: 1, seed: 1)
        for (s, big) in zip(small, a) {
            for (p, q) in zip(s.prompts, big.prompts) { #expect(p.text == q.text && p.seeds[0] == q.seeds[0]) }
        }
        let seeds = a.flatMap { $0.prompts.flatMap(\.seeds) }
        #expect(Set(seeds).count == seeds.count)
    }

    @Test func attributePromptsChangeColourOrPatternWithKnownWords() throws {
        let tok = WorldText.tokenizer()
        for s in BenchPlanner.world(subjects: 13, prompts: 25, imagesPerPrompt: 1, seed: 3) {
            let subject = try #require(s.worldSubject)
            let attrs = s.prompts.filter { $0.kind == "attribute" }
            let colours = Set(ColorName.allCases.map(\.rawValue)), patterns = Set(PatternKind.allCases.map(\.adjective))
            for (i, p) in attrs.enumerated() {
                let word = p.text.split(separator: " ")[1]
                if i < 3 {
                    #expect(colours.contains(String(word)) && word != subject.appearance.main.rawValue, "\(p.text)")
                } else {
                    #expect(patterns.contains(String(word)) && word != subject.appearance.body.kind.adjective, "\(p.text)")
                }
            }
            for p in s.prompts { #expect(tok.unknownWords(in: p.text).isEmpty, "\(p.text)") }
        }
    }

    @Test func validationPlanSkipsTheJudgesSubjectsAndNeverTouchesTest() {
        let plan = BenchPlanner.world(subjects: 26, prompts: 4, imagesPerPrompt: 1, seed: 7, split: .validation, firstSubject: 16)
        #expect(plan.count == 26 && Set(plan.map(\.id)).count == 26)
        for (i, s) in plan.enumerated() {
            let subject = s.worldSubject!
            #expect(subject.split == .validation)
            // Number 16 + i / 13 of its category among validation subjects (instances 8, 18, 28, ...).
            #expect(subject.instance == UInt64(10 * (16 + i / 13) + 8), "\(s.id)")
        }
        let test = BenchPlanner.world(subjects: 26, prompts: 4, imagesPerPrompt: 1, seed: 7)
        #expect(Set(test.map(\.id)).isDisjoint(with: plan.map(\.id)))
        // The default arguments are the test plan from subject 0.
        #expect(test == BenchPlanner.world(subjects: 26, prompts: 4, imagesPerPrompt: 1, seed: 7, split: .test, firstSubject: 0))
    }
}
