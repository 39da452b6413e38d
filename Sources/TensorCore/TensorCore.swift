import CBLAS
// TensorCore: see docs/ARCHITECTURE.md.
public func _blasProbe() -> Int32 { openblas_get_num_threads() }
