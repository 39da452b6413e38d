import Imaging

/// One member of a same-subject set: a render with its scene, pose and prompts.
public struct SetMember: Sendable {
    public var scene: Scene
    public var pose: Pose
    public var prompt: String
    public var caption: String
    public var render: RenderResult
}

/// Same-subject sets (JeDi S3 analogue): 2-5 renders of one subject in different scenes
/// and poses (JeDi's appendix trains on 2-4; 5 is the bench's all-references set, 4 references and
/// the generated image). Scenes are distinct backgrounds drawn by (seed); everything is a pure
/// function of (subject, count, seed, size).
public enum SameSubjectSet {
    /// The set sizes `make` draws.
    public static let sizes = 2...5

    public static func make(_ subject: Subject, count: Int, seed: UInt64, size: Int,
                            supersample: Int = 2) throws -> [SetMember] {
        guard sizes.contains(count) else { throw WorldError.badSetSize(count) }
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
