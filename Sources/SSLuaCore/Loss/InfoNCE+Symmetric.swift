import RealModule

/// The all-anchor InfoNCE (NT-Xent, or the symmetric paper form) on the upper triangle only.
///
/// With every row an anchor, S = F F^T is symmetric and so is the exclusion mask, and the rows
/// of L2-normalised features have S <= 1. One global shift beta (instead of each row's max)
/// makes E = exp(beta (S - 1)) symmetric too: it is computed once per pair (i < k), and added
/// to the normalisers Z_i and Z_k. The gradient matrix is then symmetric as well,
///   M[i,k] = E[i,k] (1/Z_i + 1/Z_k) - 2 [k = p(i)],
/// and dF = c M F is one symm on the same triangle. Half the exps, no transposes. Used while
/// exp(-2 beta) stays far from float underflow (beta <= 30); larger beta takes the row path.
extension InfoNCE {
    static let symmetricMaxBeta = 30.0

    static func runSymmetric<T: TensorScalar>(_: T.Type, _ z1: Tensor, _ z2: Tensor, _ n: Int, _ d: Int,
                                              _ beta: Double, _ paper: Bool) throws -> Tensor {
        let rows = 2 * n
        let (f, norms) = try Contrastive.normalizedPool(z1, z2, T.dtype)
        let fp = f.base(T.self)
        let e = try Tensor(shape: [rows, rows], dtype: T.dtype, zeroed: false)
        let ep = e.base(T.self)
        BLAS.gramUpperNoMirror(fp, rows: rows, cols: d, into: ep)
        // positives S[i, i+N] before the triangle is overwritten
        var pos = try [Double](failableRepeating: 0, count: n)
        for i in 0..<n { pos[i] = Double(ep[i * rows + i + n]) }
        // units pair row u with row rows-1-u so both threads get equal work
        let units = rows / 2
        let chunks = Swift.max(1, Swift.min(Parallel.threads, units))
        var colSums = try [Double](failableRepeating: 0, count: chunks * rows)
        var rowSums = try [Double](failableRepeating: 0, count: rows)
        let b = T(beta)
        colSums.withUnsafeMutableBufferPointer { cb in rowSums.withUnsafeMutableBufferPointer { rb in
            let cs = cb.baseAddress!, rs = rb.baseAddress!
            Parallel.forEach(chunks) { c in
                let acc = cs + c * rows
                let lo = units * c / chunks, hi = units * (c + 1) / chunks
                for u in lo..<hi {
                    for i in [u, rows - 1 - u] {
                        let row = ep + i * rows
                        let len = rows - i - 1
                        if len <= 0 { row[i] = 0; continue }
                        let p = i < n ? i + n : i - n
                        row[i] = 0
                        if paper && p > i { row[p] = -T.infinity }
                        let s = FastExp.expShiftSum(row + i + 1, len, scale: b, shift: T(1))
                        rs[i] = s
                        for k in (i + 1)..<rows { acc[k] += Double(row[k]) }
                    }
                }
            }
        } }
        var z = try [Double](failableRepeating: 0, count: rows)
        for i in 0..<rows {
            var s = rowSums[i]
            for c in 0..<chunks { s += colSums[c * rows + i] }
            z[i] = s
        }
        // l_a = -beta S[a,p] + beta + log Z_a
        var total = 0.0
        for a in 0..<rows { total += -beta * pos[a < n ? a : a - n] + beta + Double.log(z[a]) }
        let out = try Tensor.scalar(total / Double(rows), dtype: T.dtype)
        let zs = z
        return out.recorded("infonce", [z1, z2]) { go in
            let fp = f.base(T.self), ep = e.base(T.self), np = norms.base(T.self)
            let c = T(go.value(at: 0) * beta / Double(rows))
            let m = try Tensor(shape: [rows, rows], dtype: T.dtype, zeroed: false)
            let mp = m.base(T.self)
            let inv = zs.map { T(1 / $0) }
            inv.withUnsafeBufferPointer { ib in
                let iz = ib.baseAddress!
                Parallel.forEach(chunks) { ch in
                    let lo = units * ch / chunks, hi = units * (ch + 1) / chunks
                    for u in lo..<hi {
                        for i in [u, rows - 1 - u] {
                            let er = ep + i * rows, mr = mp + i * rows
                            let zi = iz[i]
                            mr[i] = 0
                            for k in (i + 1)..<Swift.max(i + 1, rows) { mr[k] = er[k] * (zi + iz[k]) }
                            if i < n { mr[i + n] -= 2 }
                        }
                    }
                }
            }
            let df = try Tensor(shape: [rows, d], dtype: T.dtype, zeroed: false)
            let dp = df.base(T.self)
            BLAS.symmUpper(rows, d, c, mp, fp, dp)
            Contrastive.normalizeBackward(dp, fp, np, rows, d)
            return try Contrastive.split(df, z1, z2)
        }
    }
}
