/// Constructors of the compute core.
extension Tensor {
    public static func full(_ shape: [Int], _ value: Double, dtype: DType = .float32) throws -> Tensor {
        let t = try Tensor(shape: shape, dtype: dtype, zeroed: value == 0)
        if value != 0 { t.fillKernel(value) }
        return t
    }

    public static func scalar(_ value: Double, dtype: DType = .float32) throws -> Tensor {
        try full([], value, dtype: dtype)
    }

    public static func zerosLike(_ t: Tensor) throws -> Tensor { try Tensor(shape: t.shape, dtype: t.dtype) }

    /// Fills this (contiguous) tensor; the Lua `fill_` goes through `copyIn` for views.
    func fillKernel(_ v: Double) {
        switch dtype {
        case .float32: let p = base(Float.self), f = Float(v); for i in 0..<numel { p[i] = f }
        case .float64: let p = base(Double.self); for i in 0..<numel { p[i] = v }
        }
    }

    /// A contiguous copy that stays in the graph.
    public func clone() throws -> Tensor {
        let out = try Tensor(shape: shape, dtype: dtype, zeroed: false)
        try out.copyIn(self)
        return out.recorded("clone", [self]) { g in [g] }
    }

    public static func eye(_ n: Int, _ m: Int? = nil, dtype: DType = .float32) throws -> Tensor {
        let m = m ?? n
        let t = try Tensor(shape: [n, m], dtype: dtype)
        for i in 0..<Swift.min(n, m) {
            switch dtype {
            case .float32: t.base(Float.self)[i * m + i] = 1
            case .float64: t.base(Double.self)[i * m + i] = 1
            }
        }
        return t
    }
}
