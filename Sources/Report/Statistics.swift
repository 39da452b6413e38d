import Foundation

/// A mean over subjects with its percentile-bootstrap 95% interval and the counts behind it.
/// `low`/`high` are nil when there were no subjects; with one subject the interval has zero width.
public struct Estimate: Codable, Sendable, Equatable {
    public var mean: Double?
    public var low: Double?
    public var high: Double?
    /// Subjects the mean is over (the bootstrap resamples these) and images behind them.
    public var subjects: Int
    public var images: Int
    public init(mean: Double?, low: Double?, high: Double?, subjects: Int, images: Int) {
        self.mean = mean; self.low = low; self.high = high; self.subjects = subjects; self.images = images
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): a tiny seeded generator so the report's bootstrap is a pure
/// function of its seed (Report depends on Foundation only, not on the Random module).
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The report's statistics (METHODS 8): final = unweighted mean over subjects; intervals are
/// percentile bootstraps over subjects (resample the n subjects with replacement B times, take the
/// 2.5% and 97.5% quantiles of the B resampled means, linear interpolation between order statistics).
public enum BenchStatistics {
    /// Resamples per interval (>= 1000 as issue 7 asks).
    public static let defaultResamples = 2000

    /// Unweighted mean; nil for no values. Each subject counts once whatever its image count.
    public static func mean(_ values: [Double]) -> Double? {
        values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
    }

    /// Avg of PatchDPO Table 4: (DINO + CLIP-I + CLIP-T) / 3.
    public static func avg(dino: Double, clipI: Double, clipT: Double) -> Double { (dino + clipI + clipT) / 3 }

    /// A stable seed for one figure: FNV-1a of its label mixed with the report seed, so every
    /// interval is deterministic and independent of the order the report computes them in.
    public static func seed(_ base: UInt64, _ label: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325 ^ base
        for b in label.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return h
    }

    /// q-quantile (0...1) of sorted values, linear between order statistics.
    public static func quantile(sorted v: [Double], _ q: Double) -> Double {
        precondition(!v.isEmpty, "quantile of an empty array (q = \(q))")
        let pos = q * Double(v.count - 1)
        let lo = Int(pos.rounded(.down)), hi = min(lo + 1, v.count - 1)
        return v[lo] + (v[hi] - v[lo]) * (pos - Double(lo))
    }

    /// Percentile-bootstrap interval of the mean of `values` (one per subject).
    public static func bootstrap(_ values: [Double], images: Int = 0, resamples: Int = defaultResamples,
                                 seed: UInt64, level: Double = 0.95) -> Estimate {
        values.withUnsafeBufferPointer { v in
            bootstrapStatistic(n: v.count, images: images, resamples: resamples, seed: seed, level: level) { idx in
                var sum = 0.0
                for i in idx { sum += v[i] }
                return sum / Double(idx.count)
            }
        }
    }

    /// Paired relative change 100 * (mean(model) / mean(base) - 1) in percent, over the same
    /// subjects (arrays aligned by subject), with the bootstrap resampling subjects jointly.
    public static func relativeChange(model: [Double], base: [Double], images: Int = 0,
                                      resamples: Int = defaultResamples, seed: UInt64, level: Double = 0.95) -> Estimate {
        precondition(model.count == base.count, "relativeChange: \(model.count) model values for \(base.count) base values")
        return bootstrapStatistic(n: model.count, images: images, resamples: resamples, seed: seed, level: level) { idx in
            var m = 0.0, b = 0.0
            for i in idx { m += model[i]; b += base[i] }
            return 100 * (m / b - 1)
        }
    }

    /// Generic percentile bootstrap of `statistic` over `resamples` draws of n subject indices with
    /// replacement (SplitMix64(seed), index = next() % n), made in place into one buffer.
    static func bootstrapStatistic(n: Int, images: Int, resamples: Int, seed: UInt64, level: Double,
                                   _ statistic: (UnsafeBufferPointer<Int>) -> Double) -> Estimate {
        precondition(resamples > 0 && level > 0 && level < 1, "bootstrap: resamples \(resamples), level \(level)")
        guard n > 0 else { return Estimate(mean: nil, low: nil, high: nil, subjects: 0, images: images) }
        let point = Array(0..<n).withUnsafeBufferPointer { statistic($0) }
        var rng = SplitMix64(seed: seed)
        var idx = [Int](repeating: 0, count: n)
        var stats: [Double] = []
        stats.reserveCapacity(resamples)
        idx.withUnsafeMutableBufferPointer { buf in
            for _ in 0..<resamples {
                for j in 0..<n { buf[j] = Int(rng.next() % UInt64(n)) }
                let s = statistic(UnsafeBufferPointer(buf))
                if s.isFinite { stats.append(s) }
            }
        }
        // C qsort: the generic Swift sort is unspecialised in debug builds and dominated the report's time.
        stats.withUnsafeMutableBufferPointer { b in
            guard let base = b.baseAddress else { return }
            qsort(base, b.count, MemoryLayout<Double>.stride) { x, y in
                let a = x!.load(as: Double.self), c = y!.load(as: Double.self)
                return a < c ? -1 : a > c ? 1 : 0
            }
        }
        guard point.isFinite, !stats.isEmpty else {
            return Estimate(mean: point.isFinite ? point : nil, low: nil, high: nil, subjects: n, images: images)
        }
        let a = (1 - level) / 2
        return Estimate(mean: point, low: quantile(sorted: stats, a), high: quantile(sorted: stats, 1 - a),
                        subjects: n, images: images)
    }
}
