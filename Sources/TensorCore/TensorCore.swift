// TensorCore: storage, shapes and kernels (forward and backward); see docs/ARCHITECTURE.md.
// Layout: Tensor.swift (the value type), Threads.swift (parallelFor), BLAS.swift (the only
// BLAS caller), one file per kernel family, and Reference/ with direct-loop kernels for tests.
