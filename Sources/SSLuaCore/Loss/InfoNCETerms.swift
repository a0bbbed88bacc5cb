import RealModule

/// Prop. C.1's decomposition of the paper-form InfoNCE, per anchor i (view 1):
///   l_i = -beta f_i1.f_i2  +  beta f_i1.E_p[f~]  +  H(p),   p_l = softmax_l(beta f_i1.f~_l), l in B_-i
/// (invariance, repulsion and entropy; the sign of the middle term as in the proof, D.1).
/// Each term is a differentiable N-vector. With s_m = f_i1.f~_m and s-bar = sum p s:
///   d rep/ds_m = beta p_m (1 + beta (s_m - s-bar)),   d H/ds_m = -beta^2 p_m (s_m - s-bar).
public enum InfoNCETerms {
    /// The three per-anchor terms and their sum l_i (the paper-form InfoNCE of anchor i).
    public struct Terms {
        public let invariance: Tensor, repulsion: Tensor, entropy: Tensor, loss: Tensor
    }

    public static func terms(_ z1: Tensor, _ z2: Tensor, beta: Double = 2) throws -> Terms {
        let (n, d) = try Contrastive.checkPair(z1, z2)
        try require(beta.isFinite && beta > 0, "beta must be a positive number, got \(beta)")
        let (inv, rep, ent): (Tensor, Tensor, Tensor)
        switch DType.promote(z1.dtype, z2.dtype) {
        case .float32: (inv, rep, ent) = try run(Float.self, z1, z2, n, d, beta)
        case .float64: (inv, rep, ent) = try run(Double.self, z1, z2, n, d, beta)
        }
        return Terms(invariance: inv, repulsion: rep, entropy: ent, loss: try inv.add(rep).add(ent))
    }

    static func run<T: TensorScalar>(_: T.Type, _ z1: Tensor, _ z2: Tensor, _ n: Int, _ d: Int,
                                     _ beta: Double) throws -> (Tensor, Tensor, Tensor) {
        let rows = 2 * n
        let (f, norms) = try Contrastive.normalizedPool(z1, z2, T.dtype)
        let fp = f.base(T.self)
        // Work in float64 per row: S (N x 2N) similarities, P the softmax over B_-i.
        let s = try Tensor(shape: [n, rows], dtype: T.dtype, zeroed: false)
        BLAS.gemm(false, true, n, rows, d, T(1), fp, d, fp, d, T(0), s.base(T.self), rows)
        let sd = try s.to(.float64).contiguous()
        let sp = sd.base(Double.self)
        let prob = try Tensor(shape: [n, rows], dtype: .float64, zeroed: true)
        let pp = prob.base(Double.self)
        var sbar = try [Double](failableRepeating: 0, count: n)
        let inv = try Tensor(shape: [n], dtype: T.dtype, zeroed: false)
        let rep = try Tensor(shape: [n], dtype: T.dtype, zeroed: false)
        let ent = try Tensor(shape: [n], dtype: T.dtype, zeroed: false)
        let ip = inv.base(T.self), rp = rep.base(T.self), ep = ent.base(T.self)
        for i in 0..<n {
            let row = sp + i * rows, pr = pp + i * rows
            var m = -Double.infinity
            for k in 0..<rows where k != i && k != i + n { m = Swift.max(m, row[k]) }
            var z = 0.0
            for k in 0..<rows where k != i && k != i + n { let e = Double.exp(beta * (row[k] - m)); pr[k] = e; z += e }
            var mean = 0.0
            for k in 0..<rows where k != i && k != i + n { pr[k] /= z; mean += pr[k] * row[k] }
            sbar[i] = mean
            let lse = beta * m + Double.log(z)
            ip[i] = T(-beta * row[i + n])
            rp[i] = T(beta * mean)
            ep[i] = T(lse - beta * mean)
        }
        let sb = sbar
        // Backward from a gradient dS (N x 2N, float64) of the similarities of the anchor rows.
        func back(_ fill: (Int, UnsafeMutablePointer<Double>) -> Void) throws -> [Tensor?] {
            let fp = f.base(T.self), np = norms.base(T.self)   // f, norms captured: buffers stay alive
            let ds = try Tensor(shape: [n, rows], dtype: .float64, zeroed: true)
            let dsp = ds.base(Double.self)
            for i in 0..<n { fill(i, dsp + i * rows) }
            let dsT = try ds.to(T.dtype)
            let dst = dsT.base(T.self)
            let df = try Tensor(shape: [rows, d], dtype: T.dtype, zeroed: false)
            let dp = df.base(T.self)
            BLAS.gemm(true, false, rows, d, n, T(1), dst, rows, fp, d, T(0), dp, d)
            BLAS.gemm(false, false, n, d, rows, T(1), dst, rows, fp, d, T(1), dp, d)
            Contrastive.normalizeBackward(dp, fp, np, rows, d)
            return try Contrastive.split(df, z1, z2)
        }
        inv.recorded("infonce_terms.invariance", [z1, z2]) { g in
            let gv = try g.toDoubles()
            return try back { i, r in r[i + n] = -beta * gv[i] }
        }
        rep.recorded("infonce_terms.repulsion", [z1, z2]) { g in
            let gv = try g.toDoubles()
            return try back { i, r in
                let row = sd.base(Double.self) + i * rows, pr = prob.base(Double.self) + i * rows
                for k in 0..<rows where k != i && k != i + n {
                    r[k] = gv[i] * beta * pr[k] * (1 + beta * (row[k] - sb[i]))
                }
            }
        }
        ent.recorded("infonce_terms.entropy", [z1, z2]) { g in
            let gv = try g.toDoubles()
            return try back { i, r in
                let row = sd.base(Double.self) + i * rows, pr = prob.base(Double.self) + i * rows
                for k in 0..<rows where k != i && k != i + n {
                    r[k] = -gv[i] * beta * beta * pr[k] * (row[k] - sb[i])
                }
            }
        }
        return (inv, rep, ent)
    }
}
