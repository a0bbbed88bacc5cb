/// InfoNCE (SPEC §6, paper Eq. 1) and SimCLR's NT-Xent as one fused kernel.
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
        let f = try Contrastive.pool(z1, z2, T.dtype)
        let norms = try Tensor(shape: [rows], dtype: T.dtype, zeroed: false)
        let fp = f.base(T.self), np = norms.base(T.self)
        Contrastive.normalizeRows(fp, rows, d, np)
        // S = F_A F^T, then overwritten row by row with G = softmax - onehot(positive)
        let g = try Tensor(shape: [anchors, rows], dtype: T.dtype, zeroed: false)
        let gp = g.base(T.self)
        BLAS.gemm(false, true, anchors, rows, d, T(1), fp, d, fp, d, T(0), gp, rows)
        var perRow = [Double](repeating: 0, count: anchors)
        let b = T(beta), paper = form == .paper
        perRow.withUnsafeMutableBufferPointer { lp in
            let lpp = lp.baseAddress!
            Parallel.forRange(anchors, grain: max(1, 16384 / rows)) { lo, hi in
                for a in lo..<hi {
                    let row = gp + a * rows
                    let p = a < n ? a + n : a - n
                    let pos = row[p]
                    var m = -T.infinity
                    for k in 0..<rows where k != a && !(paper && k == p) { m = Swift.max(m, row[k]) }
                    // x = beta (s - max) <= 0; excluded entries get a large negative value
                    for k in 0..<rows { row[k] = b * (row[k] - m) }
                    row[a] = -1000
                    if paper { row[p] = -1000 }
                    FastExp.expInPlace(row, rows)
                    row[a] = 0
                    if paper { row[p] = 0 }
                    var s = 0.0
                    for k in 0..<rows { s += Double(row[k]) }
                    let inv = T(1 / s)
                    for k in 0..<rows { row[k] *= inv }
                    row[p] -= 1
                    // l = -beta pos + beta m + log s
                    lpp[a] = -beta * Double(pos) + beta * Double(m) + _logD(s)
                }
            }
        }
        var total = 0.0
        for v in perRow { total += v }
        let out = try Tensor.scalar(total / Double(anchors), dtype: T.dtype)
        return out.recorded("infonce", [z1, z2]) { go in
            // re-derive the pointers from the captured tensors, which keep the buffers alive
            let fp = f.base(T.self), gp = g.base(T.self), np = norms.base(T.self)
            let c = T(go.value(at: 0) * beta / Double(anchors))
            let df = try Tensor(shape: [rows, d], dtype: T.dtype, zeroed: false)
            let dp = df.base(T.self)
            // dF = c G^T F_A  (all rows) ; dF_A += c G F
            BLAS.gemm(true, false, rows, d, anchors, c, gp, rows, fp, d, T(0), dp, d)
            BLAS.gemm(false, false, anchors, d, rows, c, gp, rows, fp, d, T(1), dp, d)
            Contrastive.normalizeBackward(dp, fp, np, rows, d)
            return try Contrastive.split(df, z1, z2)
        }
    }
}

#if canImport(Glibc)
import Glibc
@inline(__always) func _logD(_ x: Double) -> Double { Glibc.log(x) }
#endif
