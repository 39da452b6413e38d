import Foundation
import Testing
import TestSupport

/// Reads Tests/Fixtures/<name> (made by scripts/optim_golden.py).
func fixture<T: Decodable>(_ name: String, as type: T.Type) throws -> T {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures").appendingPathComponent(name)
    return try JSONDecoder().decode(T.self, from: Data(contentsOf: url))
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
