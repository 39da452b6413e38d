import Foundation
import Testing
import Random
import TensorCore
import Autograd
import NN

// Tiny modules with registration mistakes (and deliberate non-registrations) for `unregisteredProperties()`.

/// Registers `first` but forgets `second`: `second` would never train nor be saved.
private final class ForgetsAChild: Module {
    let first = Linear(2, 2, key: RNGKey(seed: 1))
    let second = Linear(2, 2, key: RNGKey(seed: 2))
    var children: [(String, any Module)] { [("first", first)] }
}

/// Every parameter and child registered, under any name, optional and array ones included.
private final class RegistersEverything: Module {
    let scale = Parameter(Tensor(zeros: [2]), requiresGrad: true)
    let proj = Linear(2, 2, key: RNGKey(seed: 1))
    let head: Linear? = Linear(2, 3, key: RNGKey(seed: 2))
    let absent: Linear? = nil
    let levels = [Linear(2, 2, key: RNGKey(seed: 3)), Linear(2, 2, key: RNGKey(seed: 4))]
    let named: [(String, Linear)] = [("a", Linear(2, 2, key: RNGKey(seed: 5)))]
    let table = Tensor(zeros: [1000])                     // a buffer, not a parameter
    let sizes = [Int](repeating: 1, count: 1000)
    var directParameters: [(String, Parameter)] { [("scale", scale)] }
    var children: [(String, any Module)] {
        [("proj", proj)] + (head.map { [("head", $0)] } ?? []) + [("levels", ModuleList(levels))]
            + named.map { ($0.0, $0.1) }
    }
}

/// Forgets its own parameter, one optional child and one element of an array of tuples.
private final class ForgetsSeveral: Module {
    let scale = Parameter(Tensor(zeros: [2]), requiresGrad: true)
    let head: Linear? = Linear(2, 3, key: RNGKey(seed: 2))
    let named: [(String, Linear)] = [("a", Linear(2, 2, key: RNGKey(seed: 5))), ("b", Linear(2, 2, key: RNGKey(seed: 6)))]
    let dropout = Dropout(0.1, key: RNGKey(seed: 7))
    var children: [(String, any Module)] { [(named[0].0, named[0].1)] }
}

/// Holds the root's `shared` Linear again, deep in the tree: registered elsewhere, not missing.
private final class KeepsASharedReference: Module {
    let alias: Linear
    let own = Linear(2, 2, key: RNGKey(seed: 9))
    init(alias: Linear) { self.alias = alias }
    var children: [(String, any Module)] { [("own", own)] }
}

private final class SharesAModule: Module {
    let shared = Linear(2, 2, key: RNGKey(seed: 8))
    lazy var user = KeepsASharedReference(alias: shared)
    var children: [(String, any Module)] { [("shared", shared), ("user", user)] }
}

/// Forwards a child's lists as its own (the child's keys without a prefix), as `ViTReferenceEncoder` does.
private final class ForwardsAChild: Module {
    let inner = RegistersEverything()
    var directParameters: [(String, Parameter)] { inner.directParameters }
    var children: [(String, any Module)] { inner.children }
}

/// Keeps a frozen snapshot of its weights out of the tree on purpose: it must not train nor be saved.
private final class KeepsAFrozenCopy: DeliberatelyUnregistered {
    let live = Linear(2, 2, key: RNGKey(seed: 1))
    let snapshot = Linear(2, 2, key: RNGKey(seed: 1))
    var children: [(String, any Module)] { [("live", live)] }
    /// `snapshot` is the reference point of a regulariser, never a parameter.
    static let unregisteredByDesign: Set<String> = ["snapshot"]
}

@Suite struct ModuleRegistrationTests {
    @Test func aChildLeftOutOfChildrenIsReportedByName() {
        #expect(ForgetsAChild().unregisteredProperties() == ["second"])
    }

    @Test func aModuleThatRegistersEverythingReportsNothing() {
        #expect(RegistersEverything().unregisteredProperties() == [])
        #expect(Linear(3, 2, key: RNGKey(seed: 0)).unregisteredProperties() == [])
        #expect(Attention(queryDim: 4, heads: 2, headDim: 2, key: RNGKey(seed: 0)).unregisteredProperties() == [])
    }

    @Test func ownParametersOptionalsTuplesAndParameterlessChildrenAreChecked() {
        #expect(ForgetsSeveral().unregisteredProperties() == ["scale", "head", "named", "dropout"])
    }

    @Test func aMistakeDeepInTheTreeIsReportedUnderItsKeyPath() {
        final class Outer: Module {
            let blocks = ModuleList([ForgetsAChild(), ForgetsAChild()])
            var children: [(String, any Module)] { [("blocks", blocks)] }
        }
        #expect(Outer().unregisteredProperties() == ["blocks.0.second", "blocks.1.second"])
    }

    @Test func aModuleRegisteredElsewhereInTheTreeIsNotMissing() {
        let root = SharesAModule()
        #expect(root.unregisteredProperties() == [])
        // Checked from the sub-tree alone, the shared Linear is outside it.
        #expect(root.user.unregisteredProperties() == ["alias"])
    }

    @Test func aWrapperForwardingItsChildsListsIsComplete() {
        #expect(ForwardsAChild().unregisteredProperties() == [])
        final class ForwardsABrokenChild: Module {
            let inner = ForgetsAChild()
            var children: [(String, any Module)] { inner.children }
        }
        // The forwarded child's own properties are still checked, under the wrapper's property name.
        #expect(ForwardsABrokenChild().unregisteredProperties() == ["inner.second"])
    }

    @Test func aDeclaredOptOutIsSkippedAndOnlyIt() {
        #expect(KeepsAFrozenCopy().unregisteredProperties() == [])
        final class Undeclared: Module {
            let live = Linear(2, 2, key: RNGKey(seed: 1))
            let snapshot = Linear(2, 2, key: RNGKey(seed: 1))
            var children: [(String, any Module)] { [("live", live)] }
        }
        #expect(Undeclared().unregisteredProperties() == ["snapshot"])
    }

    // MARK: describe()

    /// The parameter lines of `describe()`: key, shape, count.
    static func parameterLines(_ text: String) -> [(String, [Int], Int)] {
        text.split(separator: "\n").dropFirst().compactMap { line -> (String, [Int], Int)? in
            guard let open = line.firstIndex(of: "["), let close = line.firstIndex(of: "]") else { return nil }
            let key = line[..<open].trimmingCharacters(in: .whitespaces)
            let shape = line[line.index(after: open)..<close].split(separator: ",").map {
                Int($0.trimmingCharacters(in: .whitespaces))!
            }
            let count = Int(line[line.index(after: close)...].split(separator: " ")[0])!
            return (key, shape, count)
        }
    }

    @Test func describeListsALinearsParametersAndTotal() {
        let l = Linear(3, 2, key: RNGKey(seed: 0))
        let text = l.describe()
        #expect(text == """
            Linear: 8 parameters
              weight [2, 3] 6
              bias [2] 2
            """)
        let lines = Self.parameterLines(text)
        #expect(lines.map(\.0) == l.namedParameters().map(\.0))
        #expect(lines.map(\.2).reduce(0, +) == l.parameterCount)
    }

    @Test func describeMatchesNamedParametersOfANestedModule() {
        let m = RegistersEverything()
        m.proj.setRequiresGrad(false)
        let text = m.describe()
        let named = m.namedParameters()
        let lines = Self.parameterLines(text)
        #expect(lines.map(\.0) == named.map(\.0))
        #expect(lines.map(\.1) == named.map(\.1.shape))
        #expect(lines.map(\.2).reduce(0, +) == m.parameterCount)
        #expect(text.split(separator: "\n").first == "RegistersEverything: \(m.parameterCount) parameters (\(m.parameterCount - 6) trainable)")
        // One line per module below the root (proj, head, levels, levels.0, levels.1, a) and per parameter.
        #expect(text.split(separator: "\n").count == 1 + 6 + named.count)
        #expect(text.contains("\n    levels.1: Linear\n      levels.1.weight [2, 2] 4\n"))
        #expect(text.contains("  proj.weight [2, 2] 4 frozen\n"))
    }
}
