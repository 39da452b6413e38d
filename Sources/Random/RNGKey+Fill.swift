import Dispatch

/// Buffer fills. Element `i` of the buffer receives the value at index `offset + i`
/// (`uniform(at:)`, `normal(at:)`, ...), so fills are reproducible in pieces and in parallel.
extension RNGKey {
    /// Fills `buffer` with uniforms in `[low, high)`: `low + (high - low) * u`.
    public func fillUniform(_ buffer: UnsafeMutableBufferPointer<Float>, offset: UInt64 = 0,
                            low: Float = 0, high: Float = 1) {
        let width = high - low
        forEachBlock(.bits, count: buffer.count, offset: offset) { i, b, lane in
            buffer[i] = low + width * RNGKey.unitFloat(b[lane])
        }
    }

    /// Fills `buffer` with normals `mean + std * z`.
    public func fillNormal(_ buffer: UnsafeMutableBufferPointer<Float>, offset: UInt64 = 0,
                           mean: Float = 0, std: Float = 1) {
        forEachBlock(.normal, count: buffer.count, offset: offset) { i, b, lane in
            let pair = lane & 2
            buffer[i] = mean + std * RNGKey.boxMuller(b[pair], b[pair + 1], sine: lane & 1 == 1)
        }
    }

    /// Fills `buffer` with 1 (probability `p`) or 0: `uniform < p`.
    public func fillBernoulli(_ buffer: UnsafeMutableBufferPointer<Float>, offset: UInt64 = 0,
                              p: Float) {
        forEachBlock(.bits, count: buffer.count, offset: offset) { i, b, lane in
            buffer[i] = RNGKey.unitFloat(b[lane]) < p ? 1 : 0
        }
    }

    /// Same values as the serial fill, computed by `threads` workers on contiguous chunks.
    /// - Parameter kind: which fill to run.
    public func parallelFill(_ buffer: UnsafeMutableBufferPointer<Float>, offset: UInt64 = 0,
                             kind: FillKind, threads: Int) {
        precondition(threads >= 1, "parallelFill: threads must be >= 1, got \(threads)")
        let n = buffer.count
        let chunks = min(threads, max(1, n))
        let box = SendableBuffer(base: buffer)
        let key = self
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            let start = n * c / chunks, end = n * (c + 1) / chunks
            let part = UnsafeMutableBufferPointer(rebasing: box.base[start..<end])
            let off = offset + UInt64(start)
            switch kind {
            case .uniform(let lo, let hi): key.fillUniform(part, offset: off, low: lo, high: hi)
            case .normal(let mean, let std): key.fillNormal(part, offset: off, mean: mean, std: std)
            case .bernoulli(let p): key.fillBernoulli(part, offset: off, p: p)
            }
        }
    }

    /// Calls `body(i, block, lane)` for i in 0..<count, with the Philox block of index
    /// `offset + i` (computed once per four values) and its lane `(offset + i) % 4`.
    @inline(__always)
    func forEachBlock(_ domain: Domain, count: Int, offset: UInt64,
                      _ body: (Int, SIMD4<UInt32>, Int) -> Void) {
        var i = 0
        while i < count {
            let index = offset &+ UInt64(i)
            let b = block(domain, index >> 2)
            var lane = Int(index & 3)
            while lane < 4 && i < count {
                body(i, b, lane)
                lane += 1
                i += 1
            }
        }
    }
}

/// Which distribution `parallelFill` draws.
public enum FillKind: Sendable, Equatable {
    case uniform(low: Float, high: Float)
    case normal(mean: Float, std: Float)
    case bernoulli(p: Float)
}

/// Wraps a buffer for `concurrentPerform`. Safe because each worker writes a disjoint
/// chunk `[n*c/chunks, n*(c+1)/chunks)` and the call returns only when all are done.
private struct SendableBuffer: @unchecked Sendable {
    let base: UnsafeMutableBufferPointer<Float>
}
