import TensorCore

/// Embedding lookup: rows of `table` [V, D] at `indices` (any shape S) -> [S.., D].
/// d table = scatter-add of g's rows into the indexed rows; indices get no gradient.
/// Indices out of range are a programmer error here; validate token ids where they are read.
public func embedding(_ indices: [Int32], shape: [Int]? = nil, table: Variable) -> Variable {
    let tv = table.value
    precondition(tv.rank == 2, "embedding: table shape \(tv.shape), want [V, D]")
    let y = Kernels.embedding(indices, table: tv)
    let outShape = (shape ?? [indices.count]) + [tv.shape[1]]
    precondition(outShape.reduce(1, *) == y.count, "embedding: index shape \(shape ?? []) does not hold \(indices.count) indices")
    return Variable.record("embedding", y.reshaped(outShape), inputs: [table]) { g in
        [Kernels.embeddingBackward(g.reshaped([indices.count, tv.shape[1]]), indices: indices, vocabularySize: tv.shape[0])]
    }
}
