import RealModule

/// Wang & Isola's alignment and uniformity of L2-normalised features:
///   alignment(z1, z2) = mean_i ||f_i1 - f_i2||^2,
///   uniformity(z)     = log mean_{i<j} exp(-2 ||f_i - f_j||^2)   (t = 2, torch.pdist pairs).
/// Uniformity uses ||f_i - f_j||^2 = 2 - 2 f_i.f_j from gemm blocks of rows, so N = 10^4
/// costs no N x N buffer, and a log-sum-exp over the pairs.
public enum Alignment {
    public static func alignment(_ z1: Tensor, _ z2: Tensor) throws -> Double {
        let d = try NearestNegative.distances(z1, z2)
        return d.reduce(0) { $0 + $1 * $1 } / Double(d.count)
    }

    public static func uniformity(_ z: Tensor) throws -> Double {
        try require(z.dim == 2, "z must be a 2-d batch N x d, got size \(shapeString(z.shape))")
        let n = z.shape[0], d = z.shape[1]
        try require(n >= 2, "uniformity needs at least 2 rows, got \(n)")
        try require(d >= 1, "features have dimension 0")
        let f = try Tensor(shape: [n, d], dtype: .float64, zeroed: false)
        try f.copyIn(z.detach())
        let fp = f.base(Double.self)
        var norms = try [Double](failableRepeating: 0, count: n)
        norms.withUnsafeMutableBufferPointer { Contrastive.normalizeRows(fp, n, d, $0.baseAddress!) }
        let block = 256
        let buf = try Tensor(shape: [Swift.min(block, n), n], dtype: .float64, zeroed: false)
        let bp = buf.base(Double.self)
        // log sum exp(4 s - 4) over i < j, accumulated with a running maximum
        var m = -Double.infinity, acc = 0.0
        var start = 0
        while start < n {
            let b = Swift.min(block, n - start)
            BLAS.gemm(false, true, b, n, d, 1.0, fp + start * d, d, fp, d, 0.0, bp, n)
            for r in 0..<b {
                let i = start + r
                for j in (i + 1)..<Swift.max(i + 1, n) {
                    let v = -2 * Swift.max(0, 2 - 2 * bp[r * n + j])
                    if v > m { acc = acc * Double.exp(m - v) + 1; m = v } else { acc += Double.exp(v - m) }
                }
            }
            start += b
            try Parallel.checkInterrupt()
        }
        let pairs = Double(n) * Double(n - 1) / 2
        return m + Double.log(acc) - Double.log(pairs)
    }
}
