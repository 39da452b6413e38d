import Foundation
import Imaging

/// Where a reference's object lies in a generated image: a similarity transform with an optional
/// mirror, in pixel coordinates (pixel centres at +0.5),
///   p = generatedCentre + shift + scale * R(rotation) * M * (q - referenceCentre)
/// for a reference point q and its generated point p, M = diag(-1, 1) when `mirrored`.
/// The world's poses (WORLD.md) are translation, scale, rotation within +-30 degrees, a mirror and a mild
/// perspective; the perspective is the part this model leaves out.
public struct ObjectTransform: Sendable, Equatable {
    public var referenceCentre: (x: Double, y: Double)
    public var generatedCentre: (x: Double, y: Double)
    public var shift: (x: Double, y: Double)
    public var scale: Double
    public var rotationDegrees: Double
    public var mirrored: Bool

    public static func == (a: Self, b: Self) -> Bool {
        a.referenceCentre == b.referenceCentre && a.generatedCentre == b.generatedCentre && a.shift == b.shift
            && a.scale == b.scale && a.rotationDegrees == b.rotationDegrees && a.mirrored == b.mirrored
    }

    /// "scale 1.020, rotation -12 deg, mirrored, centres (16.0, 16.2) -> (15.1, 17.0), shift (0, 1) px" (recorded
    /// beside the aligned maps).
    public var summary: String {
        String(format: "scale %.3f, rotation %.0f deg, ", scale, rotationDegrees) + (mirrored ? "mirrored" : "not mirrored")
            + String(format: ", centres (%.1f, %.1f) -> (%.1f, %.1f), shift (%.0f, %.0f) px", referenceCentre.x, referenceCentre.y,
                     generatedCentre.x, generatedCentre.y, shift.x, shift.y)
    }

    /// The reference point a generated point comes from (the inverse map, what warping samples).
    public func referencePoint(x px: Double, y py: Double) -> (x: Double, y: Double) { inverse.apply(px, py) }

    /// The inverse map as an affine map, q = (a x + b y + c, d x + e y + f): the trigonometry once per
    /// transform instead of once per pixel.
    public var inverse: Affine {
        let r = -rotationDegrees * .pi / 180, m = mirrored ? -1.0 : 1.0
        let a = m * cos(r) / scale, b = -m * sin(r) / scale, d = sin(r) / scale, e = cos(r) / scale
        let ox = generatedCentre.x + shift.x, oy = generatedCentre.y + shift.y
        return Affine(a: a, b: b, c: referenceCentre.x - a * ox - b * oy, d: d, e: e, f: referenceCentre.y - d * ox - e * oy)
    }

    /// (x, y) -> (a x + b y + c, d x + e y + f).
    public struct Affine: Sendable, Equatable {
        public var a, b, c, d, e, f: Double
        @inline(__always) public func apply(_ x: Double, _ y: Double) -> (x: Double, y: Double) { (a * x + b * y + c, d * x + e * y + f) }
    }

    /// The generated point of a reference point (the forward map).
    public func generatedPoint(x qx: Double, y qy: Double) -> (x: Double, y: Double) {
        var dx = qx - referenceCentre.x
        let dy = qy - referenceCentre.y
        if mirrored { dx = -dx }
        let a = rotationDegrees * .pi / 180
        return (generatedCentre.x + shift.x + scale * (cos(a) * dx - sin(a) * dy),
                generatedCentre.y + shift.y + scale * (sin(a) * dx + cos(a) * dy))
    }
}

/// Estimates the reference object's transform into a generated image and draws the image the generator
/// should have made: the reference object warped onto the generated image (`expected`). Comparing a generated
/// patch with the expected image's patch at the same place is the aligned quality (`AlignedQuality`), which
/// sees defects a max over reference patches cannot: a decal moved, a stripe dropped.
///
/// Estimation (a search, not a learned model; the HPatches-style feature matches are too coarse on an 8 x 8
/// grid to fix a rotation): the centres and the scale come from the foreground masks (centroids, square root of
/// the area ratio); rotation, mirror, a scale correction and a sub-cell shift are chosen on a grid by the least
/// cost, cost = sum over pixels of |g - a| + `colourWeight` * min(g, a) * mean |RGB difference| / 255, where g is
/// the generated coverage and a the warped reference coverage. The mask term places the silhouette; the colour
/// term decides what the silhouette leaves open (a mirror of a symmetric outline, the rotation of a round one).
public enum ObjectAlignment {
    /// The search grid. Rotations beyond the world's +-30 degrees are searched so an edge case is not clipped.
    public struct Search: Sendable, Equatable {
        public var rotations: [Double]
        public var scales: [Double]
        public var shifts: [Double]
        public var colourWeight: Double

        public init(rotations: [Double] = stride(from: -42.0, through: 42.0, by: 3).map { $0 },
                    scales: [Double] = [0.92, 1, 1.08], shifts: [Double] = [-1, 0, 1], colourWeight: Double = 2) {
            precondition(!rotations.isEmpty && !scales.isEmpty && !shifts.isEmpty && scales.allSatisfy { $0 > 0 },
                         "ObjectAlignment.Search: empty grid or non-positive scale")
            self.rotations = rotations; self.scales = scales; self.shifts = shifts; self.colourWeight = colourWeight
        }
    }

    /// The centroid and area (sum of coverage) of a coverage map; nil for an empty one.
    static func moments(_ coverage: [Float], width w: Int) -> (x: Double, y: Double, area: Double)? {
        var s = 0.0, sx = 0.0, sy = 0.0
        for (i, c) in coverage.enumerated() where c > 0 {
            let v = Double(c)
            s += v; sx += v * (Double(i % w) + 0.5); sy += v * (Double(i / w) + 0.5)
        }
        return s > 0 ? (sx / s, sy / s, s) : nil
    }

    /// The transform of the least cost; nil when either coverage is empty (no object to align).
    public static func estimate(reference: Image, referenceCoverage: [Float], generated: Image, generatedCoverage: [Float],
                                search: Search = Search()) -> ObjectTransform? {
        let rf = reference.converted(toChannels: 3), gn = generated.converted(toChannels: 3)
        precondition(referenceCoverage.count == rf.width * rf.height && generatedCoverage.count == gn.width * gn.height,
                     "ObjectAlignment.estimate: coverages of \(referenceCoverage.count)/\(generatedCoverage.count) pixels for "
                     + "\(rf.width)x\(rf.height) and \(gn.width)x\(gn.height) images")
        guard let mr = moments(referenceCoverage, width: rf.width), let mg = moments(generatedCoverage, width: gn.width) else { return nil }
        let base = ObjectTransform(referenceCentre: (mr.x, mr.y), generatedCentre: (mg.x, mg.y), shift: (0, 0),
                                   scale: (mg.area / mr.area).squareRoot(), rotationDegrees: 0, mirrored: false)
        var best = base, bestCost = Double.infinity
        for mirrored in [false, true] {
            for rot in search.rotations {
                for k in search.scales {
                    for sy in search.shifts {
                        for sx in search.shifts {
                            var t = base
                            t.mirrored = mirrored; t.rotationDegrees = rot; t.scale = base.scale * k; t.shift = (sx, sy)
                            let c = cost(t, reference: rf, referenceCoverage: referenceCoverage, generated: gn,
                                         generatedCoverage: generatedCoverage, colourWeight: search.colourWeight)
                            if c < bestCost { bestCost = c; best = t }
                        }
                    }
                }
            }
        }
        return best
    }

    /// The search's cost of one transform (RGB images).
    static func cost(_ t: ObjectTransform, reference rf: Image, referenceCoverage: [Float], generated gn: Image,
                     generatedCoverage: [Float], colourWeight: Double) -> Double {
        var total = 0.0
        let inverse = t.inverse
        for y in 0..<gn.height {
            for x in 0..<gn.width {
                let i = y * gn.width + x
                let q = inverse.apply(Double(x) + 0.5, Double(y) + 0.5)
                let (a, rgb) = sample(rf, coverage: referenceCoverage, x: q.x, y: q.y)
                let g = Double(generatedCoverage[i])
                total += abs(g - a)
                let both = min(g, a)
                if both > 0 {
                    let o = i * 3
                    let d = abs(Double(gn.pixels[o]) - rgb.0) + abs(Double(gn.pixels[o + 1]) - rgb.1) + abs(Double(gn.pixels[o + 2]) - rgb.2)
                    total += colourWeight * both * d / (3 * 255)
                }
            }
        }
        return total
    }

    /// Bilinear sample of coverage and RGB at a reference point (pixel centres at +0.5); outside the
    /// image the coverage is 0.
    @inline(__always)
    static func sample(_ im: Image, coverage: [Float], x: Double, y: Double) -> (Double, (Double, Double, Double)) {
        let fx = x - 0.5, fy = y - 0.5
        let x0 = Int(fx.rounded(.down)), y0 = Int(fy.rounded(.down))
        let wx = fx - Double(x0), wy = fy - Double(y0)
        guard x0 >= -1, y0 >= -1, x0 < im.width, y0 < im.height else { return (0, (0, 0, 0)) }
        var a = 0.0, r = 0.0, g = 0.0, b = 0.0, wsum = 0.0
        for dy in 0...1 {
            let yy = y0 + dy, vy = dy == 0 ? 1 - wy : wy
            guard vy > 0, yy >= 0, yy < im.height else { continue }
            for dx in 0...1 {
                let xx = x0 + dx, w = vy * (dx == 0 ? 1 - wx : wx)
                guard w > 0, xx >= 0, xx < im.width else { continue }
                let i = yy * im.width + xx, o = i * 3
                a += w * Double(coverage[i])
                r += w * Double(im.pixels[o]); g += w * Double(im.pixels[o + 1]); b += w * Double(im.pixels[o + 2])
                wsum += w
            }
        }
        guard wsum > 0 else { return (0, (0, 0, 0)) }
        return (a, (r / wsum, g / wsum, b / wsum))
    }

    /// The generated image with the reference object warped over it (alpha = the warped reference
    /// coverage): what the generator should have drawn where it drew the object. RGB.
    public static func expected(reference: Image, referenceCoverage: [Float], generated: Image, transform t: ObjectTransform) -> Image {
        let rf = reference.converted(toChannels: 3)
        var out = generated.converted(toChannels: 3)
        precondition(referenceCoverage.count == rf.width * rf.height,
                     "ObjectAlignment.expected: coverage of \(referenceCoverage.count) pixels for a \(rf.width)x\(rf.height) reference")
        let inverse = t.inverse
        for y in 0..<out.height {
            for x in 0..<out.width {
                let q = inverse.apply(Double(x) + 0.5, Double(y) + 0.5)
                let (a, rgb) = sample(rf, coverage: referenceCoverage, x: q.x, y: q.y)
                guard a > 0 else { continue }
                let o = (y * out.width + x) * 3
                for (c, v) in [rgb.0, rgb.1, rgb.2].enumerated() {
                    let mixed = a * v + (1 - a) * Double(out.pixels[o + c])
                    out.pixels[o + c] = UInt8(min(255, max(0, mixed.rounded())))
                }
            }
        }
        return out
    }
}
