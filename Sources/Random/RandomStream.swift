/// A sequential random source: a key and a position, both Codable so a checkpoint can
/// save them and a resumed run draws exactly the numbers an uninterrupted run would.
///
/// Each draw consumes one position: `nextFloat()` returns `key.uniform(at: position)`,
/// `nextNormal()` returns `key.normal(at: position)`. A fill of `n` values consumes `n`
/// positions and equals `n` single draws (uniform and normal use separate counter
/// domains, so mixing them never reuses random bits).
public struct RandomStream: Sendable, Hashable, Codable {
    public var key: RNGKey
    /// Number of values drawn so far.
    public var position: UInt64

    public init(key: RNGKey, position: UInt64 = 0) {
        self.key = key
        self.position = position
    }

    public init(seed: UInt64) {
        self.init(key: RNGKey(seed: seed))
    }

    public mutating func nextUInt32() -> UInt32 {
        defer { position &+= 1 }
        return key.uint32(at: position)
    }

    /// 64 bits from two consecutive positions (high word first).
    public mutating func nextUInt64() -> UInt64 {
        let hi = UInt64(nextUInt32())
        return hi << 32 | UInt64(nextUInt32())
    }

    /// Uniform in [0, 1), a multiple of 2^-24.
    public mutating func nextFloat() -> Float {
        defer { position &+= 1 }
        return key.uniform(at: position)
    }

    /// Standard normal (Box-Muller, see `RNGKey.normal(at:)`).
    public mutating func nextNormal() -> Float {
        defer { position &+= 1 }
        return key.normal(at: position)
    }

    /// `true` with probability `p`.
    public mutating func nextBernoulli(_ p: Float) -> Bool {
        nextFloat() < p
    }

    /// Uniform integer in `range`, unbiased (Lemire's multiply-and-reject on 64 bits).
    public mutating func nextInt(in range: Range<Int>) -> Int {
        precondition(!range.isEmpty, "RandomStream.nextInt: empty range \(range)")
        let span = UInt64(bitPattern: Int64(range.upperBound &- range.lowerBound))
        let threshold = (0 &- span) % span
        while true {
            let (hi, lo) = nextUInt64().multipliedFullWidth(by: span)
            if lo >= threshold {
                return range.lowerBound &+ Int(truncatingIfNeeded: hi)
            }
        }
    }

    public mutating func nextInt(in range: ClosedRange<Int>) -> Int {
        precondition(range.upperBound < Int.max, "RandomStream.nextInt: range \(range) too large")
        return nextInt(in: range.lowerBound..<(range.upperBound + 1))
    }

    /// Fisher-Yates shuffle in place (from the last element down).
    public mutating func shuffle<T>(_ array: inout [T]) {
        guard array.count > 1 else { return }
        for i in stride(from: array.count - 1, to: 0, by: -1) {
            let j = nextInt(in: 0..<(i + 1))
            array.swapAt(i, j)
        }
    }

    /// A uniformly random permutation of `0..<n`.
    public mutating func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        shuffle(&p)
        return p
    }

    public mutating func fillUniform(_ buffer: UnsafeMutableBufferPointer<Float>,
                                     low: Float = 0, high: Float = 1) {
        key.fillUniform(buffer, offset: position, low: low, high: high)
        position &+= UInt64(buffer.count)
    }

    public mutating func fillNormal(_ buffer: UnsafeMutableBufferPointer<Float>,
                                    mean: Float = 0, std: Float = 1) {
        key.fillNormal(buffer, offset: position, mean: mean, std: std)
        position &+= UInt64(buffer.count)
    }

    /// `count` normals as an array (convenience for small buffers).
    public mutating func normals(_ count: Int, mean: Float = 0, std: Float = 1) -> [Float] {
        var out = [Float](repeating: 0, count: count)
        out.withUnsafeMutableBufferPointer { fillNormal($0, mean: mean, std: std) }
        return out
    }

    /// `count` uniforms in `[low, high)` as an array.
    public mutating func uniforms(_ count: Int, low: Float = 0, high: Float = 1) -> [Float] {
        var out = [Float](repeating: 0, count: count)
        out.withUnsafeMutableBufferPointer { fillUniform($0, low: low, high: high) }
        return out
    }
}
