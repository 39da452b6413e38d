import CBF16

/// The arithmetic of TensorCore's matrix products: every `sgemm` (BLAS.swift), so linear layers, the convolutions'
/// im2col and Winograd products and attention.
///
/// - `fp32`: OpenBLAS sgemm (the default everywhere).
/// - `bf16`: both operands rounded to bfloat16 (to nearest even), products accumulated in FP32 (AVX512-BF16's
///   VDPBF16PS, the CBF16 kernel), as mixed-precision inference on accelerators does; everything that is not a
///   product (norms, softmax, additions, the sampler's update) stays FP32, and so do products with N or K below 32
///   (`bf16MinimumSide`: attention's per-head products, where the kernel's tile would run mostly empty and was
///   measured slower than sgemm). Only on CPUs with AVX512-BF16
///   (`bf16Available`); a config asking for it elsewhere is refused by its validation.
///
/// The precision is a task-local (`GEMMPrecision.with(.bf16) { ... }`), carried into `Threads.parallelFor`'s helper
/// threads, so one caller's choice never reaches another's products (tests run in parallel).
public enum GEMMPrecision: String, Sendable, Codable, CaseIterable {
    case fp32
    case bf16

    /// True when this CPU and OS run the BF16 kernel (AVX512-F, -BW and -BF16).
    public static var bf16Available: Bool { pdpo_bf16_available() != 0 }

    /// The precisions this machine cannot run, by raw value, each with the reason a config asking for it is refused.
    public static var unavailableHere: [String: String] {
        bf16Available ? [:] : [GEMMPrecision.bf16.rawValue: "bf16 needs a CPU with AVX512-BF16, which this one lacks; use fp32"]
    }

    /// The precision of the products run by the current task (and by the helper threads it hands work to).
    @TaskLocal public static var current: GEMMPrecision = .fp32

    /// Runs `body` with every matrix product of this task in `precision`.
    /// - Precondition: `precision` is `.fp32`, or `bf16Available` (validate configs first).
    public static func with<R, E: Error>(_ precision: GEMMPrecision, _ body: () throws(E) -> R) throws(E) -> R {
        precondition(precision == .fp32 || bf16Available,
                     "GEMMPrecision.with(.bf16): this CPU has no AVX512-BF16 (check GEMMPrecision.bf16Available first)")
        let result = $current.withValue(precision) { Result { () throws(E) -> R in try body() } }
        return try result.get()
    }

    /// `x` rounded to bfloat16 as the BF16 kernel rounds its operands (to nearest even, subnormals to 0), as a Float.
    public static func roundToBF16(_ x: Float) -> Float { pdpo_bf16_round(x) }
}
