import Dispatch
import Imaging

/// Global illumination applied after shading (illumination sequences, mild variety):
/// c' = c * gain * (1 + gradX * (X - 0.5) + gradY * (Y - 0.5)) + bias, in scene coordinates.
public struct Lighting: Sendable, Hashable, Codable {
    public var gain: SIMD3<Float>
    public var bias: Float
    public var gradX: Float
    public var gradY: Float
    public init(gain: SIMD3<Float> = SIMD3(1, 1, 1), bias: Float = 0, gradX: Float = 0, gradY: Float = 0) {
        self.gain = gain; self.bias = bias; self.gradX = gradX; self.gradY = gradY
    }
    public static let neutral = Lighting()
}

/// Everything a render depends on. Identical requests give identical bytes.
public struct RenderRequest: Sendable {
    /// The object, or nil for a background-only render.
    public var subject: Subject?
    /// Overrides `subject.appearance` (defects edit a copy).
    public var appearance: Appearance?
    public var scene: Scene
    public var pose: Pose
    public var width: Int
    public var height: Int
    /// Samples per axis per pixel (n x n supersampling); 1...4.
    public var supersample: Int = 2
    /// Maps output pixel coordinates to base-image pixel coordinates (HPatches views); nil = identity.
    public var viewToBase: Homography? = nil
    public var lighting: Lighting = .neutral

    public init(subject: Subject?, scene: Scene, pose: Pose = .canonical, size: Int, supersample: Int = 2) {
        self.subject = subject; self.scene = scene; self.pose = pose
        self.width = size; self.height = size; self.supersample = supersample
    }
}

/// A render: the RGB image, the foreground coverage mask (fraction of samples on the object,
/// in [0, 1], row-major H x W) and the part-id map (`PartKind.rawValue` of the majority of a
/// pixel's samples, 0 = background).
public struct RenderResult: Sendable, Equatable {
    public var image: Image
    public var mask: [Float]
    public var parts: [UInt8]
}

/// The procedural renderer: analytic shapes sampled n x n per pixel.
public enum Renderer {
    public static func render(_ r: RenderRequest) throws -> RenderResult {
        guard r.width > 0, r.height > 0, r.width % 16 == 0, r.height % 16 == 0 else {
            throw WorldError.badResolution(width: r.width, height: r.height)
        }
        guard (1...4).contains(r.supersample) else { throw WorldError.badSupersample(r.supersample) }
        return PreparedRender(r).run()
    }

    /// Renders many requests on `threads` threads; the result does not depend on `threads`.
    public static func renderBatch(_ requests: [RenderRequest], threads: Int = 1) throws -> [RenderResult] {
        for r in requests { _ = try validate(r) }
        let results = ResultBox(count: requests.count)
        let t = max(1, min(threads, requests.count))
        DispatchQueue.concurrentPerform(iterations: t) { worker in
            var i = worker
            while i < requests.count {
                results.set(i, PreparedRender(requests[i]).run())
                i += t
            }
        }
        return results.values()
    }

    private static func validate(_ r: RenderRequest) throws -> Bool {
        guard r.width > 0, r.height > 0, r.width % 16 == 0, r.height % 16 == 0 else {
            throw WorldError.badResolution(width: r.width, height: r.height)
        }
        guard (1...4).contains(r.supersample) else { throw WorldError.badSupersample(r.supersample) }
        return true
    }
}

/// Slots written by disjoint indices from concurrent workers.
/// `@unchecked Sendable`: each index is written by exactly one worker, read after the join.
private final class ResultBox: @unchecked Sendable {
    private let slots: UnsafeMutableBufferPointer<RenderResult?>
    init(count: Int) {
        slots = .allocate(capacity: count)
        slots.initialize(repeating: nil)
    }
    deinit { slots.deinitialize(); slots.deallocate() }
    func set(_ i: Int, _ v: RenderResult) { slots[i] = v }
    func values() -> [RenderResult] { slots.map { $0! } }
}
