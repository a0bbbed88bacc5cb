-- Documentation of sslua.linalg (LAPACK in float64; float32 in, float32 out).
local A = "local A = sslua.tensor{{2, 1}, {1, 3}}\n"
return {
  { "sslua.linalg", "sslua.linalg", "Linear algebra through LAPACK, computed in float64 (float32 inputs give float32 results)." },
  { "sslua.linalg.svd", "linalg.svd(A [, opts]) -> U, S, Vh", "Singular value decomposition A = U diag(S) Vh (torch.linalg.svd: Vh is V transposed), S descending; thin (reduced) by default (torch's full_matrices=False).",
    opts = { { "full", "boolean", "false", "full U (m x m) and Vh (n x n)" }, { "full_matrices", "boolean", "false", "torch's name for full" } }, ret = "U, S, Vh", ex = A .. "local U, S, Vh = sslua.linalg.svd(A)" },
  { "sslua.linalg.svdvals", "linalg.svdvals(A)", "The singular values, descending (float32 input: from the eigenvalues of the float64 Gram matrix).", ret = "a vector", ex = A .. "sslua.linalg.svdvals(A)" },
  { "sslua.linalg.eigh", "linalg.eigh(A) -> w, V", "Eigen-decomposition of a symmetric matrix (the lower triangle is read): eigenvalues ascending and eigenvectors as columns.", ret = "w, V", ex = A .. "local w, V = sslua.linalg.eigh(A)" },
  { "sslua.linalg.qr", "linalg.qr(A) -> Q, R", "Reduced QR: Q m x k with orthonormal columns, R k x n upper triangular, k = min(m, n).", ret = "Q, R", ex = A .. "local Q, R = sslua.linalg.qr(A)" },
  { "sslua.linalg.lstsq", "linalg.lstsq(A, B) -> X, rank", "The minimum-norm least-squares solution of A X = B and the rank of A.", ret = "X, rank", ex = A .. "local X, r = sslua.linalg.lstsq(A, sslua.ones(2, 1))" },
  { "sslua.linalg.pinv", "linalg.pinv(A [, opts])", "The Moore-Penrose pseudo-inverse.", opts = { { "rtol", "number", "max(m, n) * eps", "singular values below rtol * max are treated as zero" } }, ret = "a tensor", ex = A .. "sslua.linalg.pinv(A)" },
  { "sslua.linalg.det", "linalg.det(A)", "The determinant of a square matrix, as a 0-d tensor.", ret = "a 0-d tensor", ex = A .. "sslua.linalg.det(A):item()  --> 5" },
  { "sslua.linalg.expm", "linalg.expm(A) | linalg.matrix_exp(A)", "The matrix exponential of a square matrix (scaling and squaring with a Pade approximant); `matrix_exp` is torch's name.", alias = { "sslua.linalg.matrix_exp" }, ret = "a tensor", ex = "sslua.linalg.expm(sslua.zeros(2, 2)), sslua.linalg.matrix_exp(sslua.tensor{{0, 1}, {0, 0}})  -- I, {{1, 1}, {0, 1}}" },
}
