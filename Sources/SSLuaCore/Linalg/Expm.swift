import CLapacke

/// Matrix exponential by scaling and squaring with Padé approximants (Higham 2005,
/// "The scaling and squaring method for the matrix exponential revisited", Algorithm 2.3),
/// the algorithm of SciPy's and PyTorch's `expm`. Used by `sslua.linalg.expm` and `sslua.lie`.
extension Linalg {
    static let theta: [(Int, Double)] = [(3, 1.495585217958292e-2), (5, 2.539398330063230e-1),
                                         (7, 9.504178996162932e-1), (9, 2.097847961257068e0)]
    static let theta13 = 5.371920351148152e0
    static let pade: [Int: [Double]] = [
        3: [120, 60, 12, 1],
        5: [30240, 15120, 3360, 420, 30, 1],
        7: [17297280, 8648640, 1995840, 277200, 25200, 1512, 56, 1],
        9: [17643225600, 8821612800, 2075673600, 302702400, 30270240, 2162160, 110880, 3960, 90, 1],
        13: [64764752532480000, 32382376266240000, 7771770303897600, 1187353796428800,
             129060195264000, 10559470521600, 670442572800, 33522128640, 1323241920,
             40840800, 960960, 16380, 182, 1],
    ]

    public static func expm(_ a: Tensor) throws -> Tensor {
        let x = try squareMatrix(a)
        let n = a.shape[0]
        let out = try expmDouble(withExtendedLifetime(x) { try Memory.array(x.base(Double.self), count: n * n, "a copy of the matrix") }, n)
        return try result(Tensor.from(out, shape: [n, n], dtype: .float64), like: a)
    }

    /// expm of a row-major n x n float64 matrix.
    public static func expmDouble(_ a: [Double], _ n: Int) throws -> [Double] {
        // every intermediate is an n x n matrix: failable, n comes from the caller's tensor
        func mm(_ p: [Double], _ q: [Double]) throws -> [Double] {
            var r = try [Double](failableRepeating: 0, count: n * n, "an expm intermediate")
            p.withUnsafeBufferPointer { pp in q.withUnsafeBufferPointer { qp in r.withUnsafeMutableBufferPointer { rp in
                BLAS.gemm(false, false, n, n, n, 1.0, pp.baseAddress!, n, qp.baseAddress!, n, 0.0, rp.baseAddress!, n)
            } } }
            return r
        }
        func lin(_ terms: [(Double, [Double])], identity c: Double) throws -> [Double] {
            var r = try [Double](failableRepeating: 0, count: n * n, "an expm intermediate")
            for (w, t) in terms where w != 0 { for i in 0..<(n * n) { r[i] += w * t[i] } }
            for i in 0..<n { r[i * n + i] += c }
            return r
        }
        for v in a where !v.isFinite { throw SSLuaError("input contains NaN or infinity") }
        // 1-norm (max column sum)
        var norm = 0.0
        for j in 0..<n { var s = 0.0; for i in 0..<n { s += Swift.abs(a[i * n + j]) }; norm = Swift.max(norm, s) }
        var A = a
        var U: [Double], V: [Double]
        var squarings = 0
        if let (m, _) = theta.first(where: { norm <= $0.1 }), let b = pade[m] {
            let A2 = try mm(A, A)
            var powers: [[Double]] = [A2]                    // A^2, A^4, ...
            while powers.count < (m - 1) / 2 { powers.append(try mm(powers[powers.count - 1], A2)) }
            // U = A (b1 I + b3 A^2 + ...), V = b0 I + b2 A^2 + ...
            let odd = try lin(powers.enumerated().map { (b[2 * $0.offset + 3], $0.element) }, identity: b[1])
            U = try mm(A, odd)
            V = try lin(powers.enumerated().map { (b[2 * $0.offset + 2], $0.element) }, identity: b[0])
        } else {
            let b = pade[13] ?? []
            if norm > theta13 {
                squarings = Swift.max(0, Int((norm / theta13).log2Ceil))
                let scale = 1.0 / Double(1 << Swift.min(squarings, 62))
                var extra = squarings - 62
                try Memory.reserve(n * n, of: Double.self, "an expm intermediate")   // A's own copy
                for i in 0..<(n * n) { A[i] *= scale }
                while extra > 0 { for i in 0..<(n * n) { A[i] *= 0.5 }; extra -= 1 }
            }
            let A2 = try mm(A, A), A4 = try mm(A2, A2), A6 = try mm(A4, A2)
            let u1 = try mm(A6, try lin([(b[13], A6), (b[11], A4), (b[9], A2)], identity: 0))
            let u2 = try lin([(1, u1), (b[7], A6), (b[5], A4), (b[3], A2)], identity: b[1])
            U = try mm(A, u2)
            let v1 = try mm(A6, try lin([(b[12], A6), (b[10], A4), (b[8], A2)], identity: 0))
            V = try lin([(1, v1), (b[6], A6), (b[4], A4), (b[2], A2)], identity: b[0])
        }
        // (V - U) X = (V + U)
        var P = try [Double](failableRepeating: 0, count: n * n), Q = try [Double](failableRepeating: 0, count: n * n)
        for i in 0..<(n * n) { P[i] = V[i] - U[i]; Q[i] = V[i] + U[i] }
        var piv = try [lapack_int](failableRepeating: 0, count: n)
        let info = LAPACKE_dgesv(LAPACK_ROW_MAJOR, lapack_int(n), lapack_int(n), &P, lapack_int(n), &piv,
                                 &Q, lapack_int(n))
        if info > 0 { throw SSLuaError("expm: the Padé denominator is singular (input too large?)") }
        try check(info, "dgesv")
        var X = Q
        for _ in 0..<squarings {
            X = try mm(X, X)
            try Parallel.checkInterrupt()
        }
        for v in X where !v.isFinite { throw SSLuaError("expm overflowed: the result is not finite") }
        return X
    }
}

extension Double {
    /// ceil(log2(self)) for self > 0.
    var log2Ceil: Int {
        var e = 0
        var v = 1.0
        while v < self && e < 2000 { v *= 2; e += 1 }
        return e
    }
}
