import RealModule

/// Ranks of representation matrices from their singular values: the thresholded rank
/// (paper Eq. 2, or NumPy's matrix_rank tolerance) and RankMe's effective rank.
public enum Rank {
    /// How `rank` thresholds the singular values.
    public enum Criterion {
        case absolute(Double)      // sigma_j >= tau (Eq. 2)
        case relative(Double)      // sigma_j >= rtol * sigma_1
        case variance(Double)      // smallest k with sum_{j<=k} sigma_j^2 >= v sum sigma^2
        case numpyDefault          // sigma_j > sigma_1 max(m, n) eps (numpy.linalg.matrix_rank)
    }

    /// Singular values, descending, in the input's dtype.
    public static func singularValues(_ m: Tensor) throws -> Tensor { try Linalg.svdvals(m) }

    public static func rank(_ m: Tensor, _ criterion: Criterion = .numpyDefault) throws -> Int {
        try rank(sigma: Linalg.svdvals(m).toDoubles(), criterion, shape: m.shape, dtype: m.dtype)
    }

    static func rank(sigma s: [Double], _ c: Criterion, shape: [Int], dtype: DType) throws -> Int {
        let s1 = s.first ?? 0
        switch c {
        case .absolute(let tau):
            try require(tau.isFinite && tau >= 0, "tau must be a non-negative number, got \(tau)")
            return s.filter { $0 >= tau }.count
        case .relative(let r):
            try require(r.isFinite && r >= 0, "rtol must be a non-negative number, got \(r)")
            return s.filter { $0 >= r * s1 && $0 > 0 }.count
        case .variance(let v):
            try require(v > 0 && v <= 1, "variance must be in (0, 1], got \(v)")
            let total = s.reduce(0) { $0 + $1 * $1 }
            if total == 0 { return 0 }
            var acc = 0.0
            for (j, x) in s.enumerated() {
                acc += x * x
                if acc >= v * total * (1 - 1e-12) { return j + 1 }
            }
            return s.count
        case .numpyDefault:
            let eps = dtype == .float32 ? Double(Float.ulpOfOne) : Double.ulpOfOne
            let tol = s1 * Double(shape.max() ?? 0) * eps
            return s.filter { $0 > tol }.count
        }
    }

    /// RankMe (Garrido et al.): exp of the entropy of p_k = sigma_k / ||sigma||_1 + 1e-12.
    public static func effectiveRank(_ m: Tensor) throws -> Double {
        let s = try Linalg.svdvals(m).toDoubles()
        let l1 = s.reduce(0, +)
        if l1 == 0 { return 1 }   // the zero matrix: p_k = 1e-12 for all k gives exp(~0)
        var h = 0.0
        for x in s { let p = x / l1 + 1e-12; h -= p * Double.log(p) }
        return Double.exp(h)
    }
}
