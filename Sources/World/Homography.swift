import Foundation

/// A 3x3 projective transform, row-major: (x', y') = ((m0 x + m1 y + m2) / w, (m3 x + m4 y + m5) / w)
/// with w = m6 x + m7 y + m8. Double precision (HPatches files hold these as text).
public struct Homography: Sendable, Hashable, Codable {
    public var m: [Double]

    public init(_ m: [Double]) {
        precondition(m.count == 9, "Homography needs 9 values, got \(m.count)")
        self.m = m
    }

    public static let identity = Homography([1, 0, 0, 0, 1, 0, 0, 0, 1])

    public func apply(_ x: Double, _ y: Double) -> (Double, Double) {
        let w = m[6] * x + m[7] * y + m[8]
        return ((m[0] * x + m[1] * y + m[2]) / w, (m[3] * x + m[4] * y + m[5]) / w)
    }

    /// self * other (apply `other` first).
    public func composed(after other: Homography) -> Homography {
        var r = [Double](repeating: 0, count: 9)
        for i in 0..<3 { for j in 0..<3 { for k in 0..<3 { r[i * 3 + j] += m[i * 3 + k] * other.m[k * 3 + j] } } }
        return Homography(r)
    }

    /// det(m) by cofactors along the first row.
    public var determinant: Double {
        let a = m
        return a[0] * (a[4] * a[8] - a[5] * a[7]) + a[1] * (a[5] * a[6] - a[3] * a[8]) + a[2] * (a[3] * a[7] - a[4] * a[6])
    }

    /// |det| / (|row 0| |row 1| |row 2|), in [0, 1] by Hadamard's inequality: 1 for orthogonal rows, 0 for a
    /// singular matrix (also the zero matrix), unchanged by scaling the matrix or any row. A translation t
    /// gives about 1 / t^2, so `isInvertible`'s threshold of 1e-12 holds any image up to 10^6 pixels wide
    /// while refusing what rounding leaves of a singular matrix written as text.
    public var conditioning: Double {
        let rows = (0..<3).map { r in (0..<3).map { m[r * 3 + $0] * m[r * 3 + $0] }.reduce(0, +).squareRoot() }
        let scale = rows.reduce(1, *)
        guard scale > 0, scale.isFinite else { return 0 }
        return abs(determinant) / scale
    }

    /// Whether `inverse` is meaningful: finite entries, `conditioning` above 1e-12, and a determinant above the 1e-300
    /// that `inverse` divides by (a well-conditioned matrix of tiny entries, the identity x 5e-101, has |det| 1.25e-301).
    public var isInvertible: Bool { m.allSatisfy(\.isFinite) && conditioning > 1e-12 && abs(determinant) > 1e-300 }

    /// The inverse (adjugate / determinant), normalised so that m8 = 1 when possible.
    public var inverse: Homography {
        let a = m
        let c0 = a[4] * a[8] - a[5] * a[7], c1 = a[5] * a[6] - a[3] * a[8], c2 = a[3] * a[7] - a[4] * a[6]
        let det = a[0] * c0 + a[1] * c1 + a[2] * c2
        precondition(abs(det) > 1e-300, "singular homography \(a)")
        var r = [
            c0, a[2] * a[7] - a[1] * a[8], a[1] * a[5] - a[2] * a[4],
            c1, a[0] * a[8] - a[2] * a[6], a[2] * a[3] - a[0] * a[5],
            c2, a[1] * a[6] - a[0] * a[7], a[0] * a[4] - a[1] * a[3],
        ].map { $0 / det }
        if abs(r[8]) > 1e-12 { let s = r[8]; r = r.map { $0 / s } }
        return Homography(r)
    }

    public static func translation(_ tx: Double, _ ty: Double) -> Homography { Homography([1, 0, tx, 0, 1, ty, 0, 0, 1]) }
    public static func scale(_ sx: Double, _ sy: Double) -> Homography { Homography([sx, 0, 0, 0, sy, 0, 0, 0, 1]) }
    public static func rotation(_ radians: Double) -> Homography {
        let c = cos(radians), s = sin(radians)
        return Homography([c, -s, 0, s, c, 0, 0, 0, 1])
    }
    /// Perspective term: w = px x + py y + 1.
    public static func perspective(_ px: Double, _ py: Double) -> Homography { Homography([1, 0, 0, 0, 1, 0, px, py, 1]) }
}
