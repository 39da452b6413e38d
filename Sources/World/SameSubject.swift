import Imaging

/// One member of a same-subject set: a render with its scene, pose and prompts.
public struct SetMember: Sendable {
    public var scene: Scene
    public var pose: Pose
    public var prompt: String
    public var caption: String
    public var render: RenderResult
}

/// Same-subject sets (JeDi S3 analogue): 2-4 renders of one subject in different scenes
/// and poses. Scenes are distinct backgrounds drawn by (seed); everything is a pure function
/// of (subject, count, seed, size).
public enum SameSubjectSet {
    public static func make(_ subject: Subject, count: Int, seed: UInt64, size: Int,
                            supersample: Int = 2) throws -> [SetMember] {
        guard (2...4).contains(count) else { throw WorldError.badSetSize(count) }
        let st = Stream.sameSubject.rawValue
        var bgs = Background.textured
        for i in stride(from: bgs.count - 1, to: 0, by: -1) {
            let j = WorldRandom.below(i + 1, seed: seed ^ subject.instance, stream: st, index: UInt64(i))
            bgs.swapAt(i, j)
        }
        var out: [SetMember] = []
        for k in 0..<count {
            let scene = Scene(background: bgs[k], seed: seed &* 31 &+ UInt64(k))
            let pose = Pose.random(seed: seed ^ (subject.instance << 20), index: UInt64(k))
            var req = RenderRequest(subject: subject, scene: scene, pose: pose, size: size, supersample: supersample)
            req.lighting = .neutral
            let r = try Renderer.render(req)
            out.append(SetMember(scene: scene, pose: pose,
                                 prompt: Prompts.plain(subject.category, scene.background, seed: seed, index: UInt64(k)),
                                 caption: Prompts.comprehensive(subject, scene.background), render: r))
        }
        return out
    }
}
