/// Where and how the object sits in the image. Scene coordinates are normalised: (0, 0) is
/// the top-left corner and (1, 1) the bottom-right of a square image (the shorter side spans
/// 1 for non-square images, centred). The object-to-scene map is
///     H = T(centerX, centerY) * R(rotation) * S(scale * aspect * flip, scale) * P(perspectiveX, perspectiveY)
/// so object point (u, v) in [-1, 1]^2 lands at about centre +- scale.
public struct Pose: Sendable, Hashable, Codable {
    public var centerX: Float
    public var centerY: Float
    /// Half-size of the object as a fraction of the image side.
    public var scale: Float
    /// In-plane rotation in degrees (the random range is +-30).
    public var rotationDegrees: Float
    public var flipped: Bool
    /// Mild perspective (|p| <= 0.15 in the random range).
    public var perspectiveX: Float
    public var perspectiveY: Float

    public init(centerX: Float = 0.5, centerY: Float = 0.5, scale: Float = 0.38, rotationDegrees: Float = 0,
                flipped: Bool = false, perspectiveX: Float = 0, perspectiveY: Float = 0) {
        self.centerX = centerX; self.centerY = centerY; self.scale = scale
        self.rotationDegrees = rotationDegrees; self.flipped = flipped
        self.perspectiveX = perspectiveX; self.perspectiveY = perspectiveY
    }

    /// Centred, upright, unflipped: the reference-image pose.
    public static let canonical = Pose()

    /// A random pose: centre 0.5 +- 0.08, scale 0.30...0.40, rotation +-30 deg, flip 50%,
    /// perspective +-0.12 per axis. Pure function of (seed, index).
    public static func random(seed: UInt64, index: UInt64 = 0) -> Pose {
        let s = Stream.pose.rawValue
        func u(_ k: UInt64) -> Float { WorldRandom.unit(seed: seed, stream: s, index: index &* 8 &+ k) }
        return Pose(centerX: 0.42 + 0.16 * u(0), centerY: 0.42 + 0.16 * u(1), scale: 0.30 + 0.10 * u(2),
                    rotationDegrees: -30 + 60 * u(3), flipped: u(4) < 0.5,
                    perspectiveX: -0.12 + 0.24 * u(5), perspectiveY: -0.12 + 0.24 * u(6))
    }

    /// Object (u, v) -> normalised scene coordinates.
    public func objectToScene(aspect: Float) -> Homography {
        let sx = Double(scale * aspect) * (flipped ? -1 : 1)
        return Homography.translation(Double(centerX), Double(centerY))
            .composed(after: .rotation(Double(rotationDegrees) * .pi / 180))
            .composed(after: .scale(sx, Double(scale)))
            .composed(after: .perspective(Double(perspectiveX), Double(perspectiveY)))
    }
}
