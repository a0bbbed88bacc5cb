import CLua
import CLuaShim
import SSLuaCore

/// `sslua.linalg`: LAPACK in float64; float32 in, float32 out.
///
///     linalg.svd(A[, {full = true}]) -> U, S, Vh  (A = U diag(S) Vh as torch.linalg.svd;
///                            thin by default, torch's full_matrices=False; `full_matrices` is
///                            accepted as a synonym of `full`)
///     linalg.svdvals(A)      descending (float32: eigenvalues of the float64 Gram matrix)
///     linalg.eigh(A)         -> w ascending, V (columns); reads the lower triangle
///     linalg.qr(A)           -> Q (m x k), R (k x n)
///     linalg.lstsq(A, B)     -> X (minimum norm), rank
///     linalg.pinv(A[, {rtol=}]), linalg.det(A) (0-d tensor), linalg.expm(A) (= matrix_exp)
enum LinalgBindings {
    static var libraries: [LuaLibrary] { [LuaLibrary("sslua.linalg", functions)] }

    static let functions: [(String, LuaFunction)] = [
        ("svd", { a in
            let o = try a.options(at: 2, keys: ["full", "full_matrices"])
            let full = try o?.bool("full") ?? o?.bool("full_matrices") ?? false
            let (u, s, vt) = try Linalg.svd(a.tensor(1), full: full)
            a.push(u); a.push(s); a.push(vt)
            return 3
        }),
        ("svdvals", { a in a.push(try Linalg.svdvals(a.tensor(1))) }),
        ("eigh", { a in
            let (w, v) = try Linalg.eigh(a.tensor(1))
            a.push(w); a.push(v)
            return 2
        }),
        ("qr", { a in
            let (q, r) = try Linalg.qr(a.tensor(1))
            a.push(q); a.push(r)
            return 2
        }),
        ("lstsq", { a in
            let (x, rank) = try Linalg.lstsq(a.tensor(1), a.tensor(2))
            a.push(x); a.push(rank)
            return 2
        }),
        ("pinv", { a in a.push(try Linalg.pinv(a.tensor(1), rtol: a.options(at: 2, keys: ["rtol"])?.number("rtol"))) }),
        ("det", { a in a.push(try Linalg.det(a.tensor(1))) }),
        ("expm", { a in a.push(try Linalg.expm(a.tensor(1))) }),
        ("matrix_exp", { a in a.push(try Linalg.expm(a.tensor(1))) }),   // torch.linalg.matrix_exp
    ]
}
