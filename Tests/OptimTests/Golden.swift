import Foundation
import Testing

/// Reads Tests/Fixtures/<name> (made by scripts/optim_golden.py).
func fixture<T: Decodable>(_ name: String, as type: T.Type) throws -> T {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures").appendingPathComponent(name)
    return try JSONDecoder().decode(T.self, from: Data(contentsOf: url))
}

/// Compares element by element: |a - e| <= atol + rtol * |e|; on failure reports the max
/// abs and rel error and the first bad index.
func expectClose(_ actual: [Float], _ expected: [Float], atol: Float = 1e-6, rtol: Float = 1e-5,
                 _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
    guard actual.count == expected.count else {
        Issue.record("\(what): \(actual.count) values, expected \(expected.count)", sourceLocation: sourceLocation)
        return
    }
    var maxAbs: Float = 0, maxRel: Float = 0, firstBad: Int? = nil
    for i in actual.indices {
        let d = abs(actual[i] - expected[i])
        maxAbs = max(maxAbs, d)
        maxRel = max(maxRel, d / max(abs(expected[i]), 1e-30))
        if !(d <= atol + rtol * abs(expected[i])) && firstBad == nil { firstBad = i }
    }
    if let i = firstBad {
        Issue.record("\(what): first bad index \(i): \(actual[i]) vs \(expected[i]); max abs \(maxAbs), max rel \(maxRel)",
                     sourceLocation: sourceLocation)
    }
}

struct Trajectory: Decodable {
    struct Step: Decodable {
        var grads: [String: [Float]]
        var params: [String: [Float]]
    }
    var optimizer: String
    var hyper: [String: HyperValue]
    var `init`: [String: [Float]]
    var steps: [Step]
}

/// A hyperparameter: a number, a pair of numbers (betas) or a flag.
enum HyperValue: Decodable {
    case number(Double), pair([Double]), flag(Bool)
    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let b = try? c.decode(Bool.self) { self = .flag(b) }
        else if let d = try? c.decode(Double.self) { self = .number(d) }
        else { self = .pair(try c.decode([Double].self)) }
    }
    var number: Double { if case .number(let d) = self { return d }; fatalError("not a number: \(self)") }
    var pair: [Double] { if case .pair(let p) = self { return p }; fatalError("not a pair: \(self)") }
    var flag: Bool { if case .flag(let b) = self { return b }; fatalError("not a flag: \(self)") }
}

struct TrajectoryFile: Decodable {
    var reference: String
    var cases: [String: Trajectory]
}

struct ClipFile: Decodable {
    struct Case: Decodable {
        var max_norm: Double
        var grads: [String: [Float]]
        var total_norm: Double
        var clipped: [String: [Float]]
    }
    var reference: String
    var cases: [Case]
}
