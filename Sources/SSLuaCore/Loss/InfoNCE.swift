import RealModule

/// InfoNCE (paper Eq. 1) and SimCLR's NT-Xent as one fused kernel.
///
/// Both views are L2-normalised into the pool F = [f1; f2] (2N x d) and S = F_A F^T is formed
/// for the anchor rows A with one gemm. Each anchor row a, with positive p(a) = a +- N, gets
///   l_a = -beta S[a,p] + logsumexp_{k in D(a)} beta S[a,k],
/// where D(a) = all k except a and p(a) (`paper`: the 2N-2 negatives B_-i) or all k except a
/// (`ntxent`: positive in the denominator). The loss is the mean of l_a over the anchors: the N
/// rows of view 1 (paper form, Eq. 1) or all 2N rows (`symmetric`, and NT-Xent's default).
/// Backward: dl/dS[a,k] = beta (softmax_k - [k = p]) / |A|, then dF = G F + G^T F_A and the
/// normalisation's Jacobian; two gemms and a row pass, no autograd graph.
public enum InfoNCE {
    public enum Form: String { case paper, ntxent }

    public static func loss(_ z1: Tensor, _ z2: Tensor, beta: Double = 2, form: Form = .paper,
                            symmetric: Bool? = nil) throws -> Tensor {
        let (n, d) = try Contrastive.checkPair(z1, z2)
        try require(beta.isFinite && beta > 0, "beta must be a positive number, got \(beta)")
        let sym = symmetric ?? (form == .ntxent)
        let dt = DType.promote(z1.dtype, z2.dtype)
        switch dt {
        case .float32: return try run(Float.self, z1, z2, n, d, beta, form, sym)
        case .float64: return try run(Double.self, z1, z2, n, d, beta, form, sym)
        }
    }

    static func run<T: TensorScalar>(_: T.Type, _ z1: Tensor, _ z2: Tensor, _ n: Int, _ d: Int,
                                     _ beta: Double, _ form: Form, _ sym: Bool) throws -> Tensor {
        let rows = 2 * n, anchors = sym ? rows : n
        if sym && beta <= symmetricMaxBeta { return try runSymmetric(T.self, z1, z2, n, d, beta, form == .paper) }
        let (f, norms) = try Contrastive.normalizedPool(z1, z2, T.dtype)
        let fp = f.base(T.self)
        // S = F_A F^T, then overwritten row by row with G = softmax - onehot(positive)
        let g = try Tensor(shape: [anchors, rows], dtype: T.dtype, zeroed: false)
        let gp = g.base(T.self)
        if anchors == rows { BLAS.gramFull(fp, rows: rows, cols: d, into: gp) }
        else { BLAS.gemm(false, true, anchors, rows, d, T(1), fp, d, fp, d, T(0), gp, rows) }
        var perRow = try [Double](failableRepeating: 0, count: anchors)
        var lseRow = try [Double](failableRepeating: 0, count: anchors)
        let b = T(beta), paper = form == .paper
        perRow.withUnsafeMutableBufferPointer { lp in lseRow.withUnsafeMutableBufferPointer { lsp in
            let lpp = lp.baseAddress!, lse = lsp.baseAddress!
            Parallel.forRange(anchors, grain: max(1, 16384 / rows)) { lo, hi in
                for a in lo..<hi {
                    let row = gp + a * rows
                    let p = a < n ? a + n : a - n
                    let pos = row[p]
                    // excluded entries -> -inf: they drop out of the max and exp to 0
                    row[a] = -T.infinity
                    if paper { row[p] = -T.infinity }
                    let m = FastExp.rowMax(row, rows)
                    let s = FastExp.expShiftSum(row, rows, scale: b, shift: m)
                    FastExp.scale(row, rows, T(1 / s))
                    row[p] -= 1
                    // l = -beta pos + beta m + log s
                    lse[a] = beta * Double(m) + Double.log(s)
                    lpp[a] = -beta * Double(pos) + lse[a]
                }
            }
        } }
        var total = 0.0
        for v in perRow { total += v }
        let out = try Tensor.scalar(total / Double(anchors), dtype: T.dtype)
        return out.recorded("infonce", [z1, z2]) { go in
            // re-derive the pointers from the captured tensors, which keep the buffers alive
            let fp = f.base(T.self), gp = g.base(T.self), np = norms.base(T.self)
            let c = T(go.value(at: 0) * beta / Double(anchors))
            let df = try Tensor(shape: [rows, d], dtype: T.dtype, zeroed: false)
            let dp = df.base(T.self)
            if anchors == rows {
                // dF = c (G + G^T) F: one gemm
                let m = try Tensor(shape: [rows, rows], dtype: T.dtype, zeroed: false)
                symmetrizedGradient(gp, lseRow, n, rows, m.base(T.self))
                BLAS.gemm(false, false, rows, d, rows, c, m.base(T.self), rows, fp, d, T(0), dp, d)
            } else {
                // dF = c G^T F_A (all rows); dF_A += c G F
                BLAS.gemm(true, false, rows, d, anchors, c, gp, rows, fp, d, T(0), dp, d)
                BLAS.gemm(false, false, anchors, d, rows, c, gp, rows, fp, d, T(1), dp, d)
            }
            Contrastive.normalizeBackward(dp, fp, np, rows, d)
            return try Contrastive.split(df, z1, z2)
        }
    }
}

extension InfoNCE {
    /// M = G + G^T for all-anchor G = P - E (P the masked softmax rows, E the positives),
    /// without a transposed pass: S is symmetric and the mask is symmetric, so
    /// P[k,a] = P[a,k] exp(lse_a - lse_k) and M[a,k] = P[a,k] (1 + u_a v_k) - E[a,k] - E[k,a],
    /// u_a = exp(lse_a - L0), v_k = exp(L0 - lse_k). Falls back to a tiled transpose when the
    /// log-normalisers spread too far for float (huge beta).
    static func symmetrizedGradient<T: TensorScalar>(_ g: UnsafePointer<T>, _ lse: [Double], _ n: Int, _ rows: Int,
                                                     _ out: UnsafeMutablePointer<T>) {
        let lo = lse.min() ?? 0, hi = lse.max() ?? 0
        if hi - lo > 60 { BLAS.symmetrize(g, rows, into: out); return }
        let l0 = (lo + hi) / 2
        let u = lse.map { T(Double.exp($0 - l0)) }, v = lse.map { T(Double.exp(l0 - $0)) }
        u.withUnsafeBufferPointer { ub in v.withUnsafeBufferPointer { vb in
            let up = ub.baseAddress!, vp = vb.baseAddress!
            Parallel.forRange(rows, grain: max(1, 16384 / rows)) { lo, hi in
                for a in lo..<hi {
                    let gr = g + a * rows, orow = out + a * rows
                    let ua = up[a]
                    let p = a < n ? a + n : a - n
                    // g holds P - E on row a: restore P at the positive before scaling
                    for k in 0..<rows { orow[k] = gr[k] * (1 + ua * vp[k]) }
                    orow[p] = (gr[p] + 1) * (1 + ua * vp[p]) - 2
                }
            }
        } }
    }
}
