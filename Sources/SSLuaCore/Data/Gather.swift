extension Tensor {
    /// The rows `indices` (0-based) of the first dimension, as a new contiguous tensor
    /// (dataset subsets and mini-batches).
    public func gatherRows(_ indices: [Int]) throws -> Tensor {
        try require(dim >= 1, "cannot take rows of a 0-d tensor")
        let n = shape[0]
        for i in indices {
            try require(i >= 0 && i < n, "index \(i + 1) out of range for \(n) rows")
        }
        let src = try contiguous()
        let row = numel / Swift.max(n, 1)
        let out = try Tensor(shape: [indices.count] + Array(shape.dropFirst()), dtype: dtype, zeroed: false)
        func copy<T: TensorScalar>(_: T.Type) {
            let s = src.base(T.self), d = out.base(T.self)
            Parallel.forRange(indices.count, grain: Swift.max(1, 65536 / Swift.max(row, 1))) { lo, hi in
                for k in lo..<hi { (d + k * row).update(from: s + indices[k] * row, count: row) }
            }
        }
        switch dtype {
        case .float32: copy(Float.self)
        case .float64: copy(Double.self)
        }
        return out
    }
}
