import Testing
import TensorCore

/// The one element-wise comparison of the test targets: `|actual - expected| <= atol + rtol |expected|` for every
/// element (a NaN fails). On failure it reports the largest absolute and relative errors and the first element
/// out of tolerance. The defaults (atol 1e-6, rtol 1e-5) are the strictest the test targets used before they shared
/// this function; a test that needs more states its own beside the call.
public func expectClose(_ actual: [Float], _ expected: [Float], atol: Float = 1e-6, rtol: Float = 1e-5, _ what: String = "",
                        sourceLocation: SourceLocation = #_sourceLocation) {
    guard actual.count == expected.count else {
        Issue.record("\(what): \(actual.count) values, expected \(expected.count)", sourceLocation: sourceLocation)
        return
    }
    var maxAbs: Float = 0, maxRel: Float = 0, firstBad: Int? = nil
    for i in actual.indices {
        let d = abs(actual[i] - expected[i])
        if d > maxAbs || d.isNaN { maxAbs = d }
        maxRel = Swift.max(maxRel, d / Swift.max(abs(expected[i]), 1e-30))
        if firstBad == nil && !(d <= atol + rtol * abs(expected[i])) { firstBad = i }
    }
    if let i = firstBad {
        Issue.record("""
            \(what): max abs err \(maxAbs), max rel err \(maxRel) (atol \(atol), rtol \(rtol)); \
            first bad index \(i): \(actual[i]) vs \(expected[i])
            """, sourceLocation: sourceLocation)
    }
}

/// `expectClose` on tensors: equal shapes, then element by element.
public func expectClose(_ actual: Tensor, _ expected: Tensor, atol: Float = 1e-6, rtol: Float = 1e-5, _ what: String = "",
                        sourceLocation: SourceLocation = #_sourceLocation) {
    guard actual.shape == expected.shape else {
        Issue.record("\(what): shape \(actual.shape), expected \(expected.shape)", sourceLocation: sourceLocation)
        return
    }
    expectClose(actual.scalars, expected.scalars, atol: atol, rtol: rtol, what, sourceLocation: sourceLocation)
}

/// `expectClose` on one Double: `|actual - expected| <= atol + rtol |expected|`. No defaults: a scalar's
/// tolerance depends on how it was computed, so each call states its own.
public func expectClose(_ actual: Double, _ expected: Double, atol: Double, rtol: Double, _ what: String = "",
                        sourceLocation: SourceLocation = #_sourceLocation) {
    let d = abs(actual - expected)
    #expect(d <= atol + rtol * abs(expected),
            "\(what): got \(actual), want \(expected) (err \(d), atol \(atol), rtol \(rtol))", sourceLocation: sourceLocation)
}

/// A finite-difference check's verdict: `|analytic - numeric| <= rtol max(|analytic|, |numeric|) + atol`.
/// `rtol` is the check's relative tolerance (per op: how close the difference quotient gets for that op), `atol` a
/// small floor for the Float evaluation's rounding. Also fails when |analytic| <= 100 atol: there the floor
/// decides, and the check says nothing about the rule (pick another point or direction) -- unless
/// `informative` is false, for a derivative that is zero by construction.
public func expectDerivativesAgree(analytic: Double, numeric: Double, rtol: Double, atol: Double, informative: Bool = true,
                                   _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
    let err = abs(analytic - numeric), tol = rtol * Swift.max(abs(analytic), abs(numeric)) + atol
    #expect(!informative || abs(analytic) > 100 * atol,
            "\(what): directional derivative \(analytic) is within 100x the floor \(atol); the check would be vacuous",
            sourceLocation: sourceLocation)
    #expect(err <= tol, "\(what): analytic \(analytic) vs numeric \(numeric) (err \(err) > tol \(tol), rtol \(rtol), atol \(atol))",
            sourceLocation: sourceLocation)
}

/// d/dt g(t) at t = 0 by central differences, D(h) = (g(h) - g(-h)) / 2h, at h and h/2 combined by Richardson
/// extrapolation, (4 D(h/2) - D(h)) / 3: the O(h^2) truncation error cancels, O(h^4) remains, so h can stay
/// large enough that the Float evaluation's rounding (~1e-7 |g| / h) stays small.
public func richardsonDerivative(h: Float, _ g: (Float) -> Double) -> Double {
    func central(_ h: Float) -> Double { (g(h) - g(-h)) / (2 * Double(h)) }
    return (4 * central(h / 2) - central(h)) / 3
}
