-- sslua.linalg: reconstruction, orthogonality and NumPy/SciPy references (float64 LAPACK).
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local S = sslua
local L = S.linalg
local np = dofile("Tests/fixtures/math/numpy.lua").linalg
local sp = dofile("Tests/fixtures/math/scipy.lua")
local D = { dtype = "float64" }

local function maxdiff(a, b) return (a - b):abs():max():item() end
local function eye(n) return S.eye(n, D) end
local function fro(x) return (x * x):sum():sqrt():item() end

-- svd: thin and full, float64 and float32
for _, shape in ipairs { { 7, 4 }, { 4, 7 }, { 5, 5 } } do
  local A = S.randn(shape[1], shape[2], { rng = S.rng(1), dtype = "float64" })
  local U, Sv, Vt = L.svd(A)
  local k = math.min(shape[1], shape[2])
  check.eq(U:size(2), k); check.eq(Vt:size(1), k); check.eq(Sv:numel(), k)
  check.truthy(maxdiff((U * Sv):mm(Vt), A) < 1e-12, "svd reconstructs A")
  check.truthy(maxdiff(U:t():mm(U), eye(k)) < 1e-12, "U orthonormal columns")
  check.truthy(maxdiff(Vt:mm(Vt:t()), eye(k)) < 1e-12, "Vt orthonormal rows")
  for i = 2, k do check.truthy(Sv:get(i - 1) >= Sv:get(i), "descending") end
  local Uf, Sf, Vtf = L.svd(A, { full = true })
  check.eq(Uf:size(1), shape[1]); check.eq(Uf:size(2), shape[1]); check.eq(Vtf:size(1), shape[2])
  check.truthy(maxdiff(Uf:t():mm(Uf), eye(shape[1])) < 1e-12, "full U orthogonal")
  check.truthy(maxdiff(Vtf:mm(Vtf:t()), eye(shape[2])) < 1e-12, "full Vt orthogonal")
  check.near(Sf, Sv, 1e-12)
  -- float32 in, float32 out
  local U32, S32, V32 = L.svd(A:float())
  check.eq(U32:dtype(), "float32"); check.eq(S32:dtype(), "float32")
  check.near(S32, Sv, 1e-5)
  check.near(L.svdvals(A), Sv, 1e-12)
  check.near(L.svdvals(A:float()), Sv, 1e-5)
  check.eq(L.svdvals(A:float()):dtype(), "float32")
end
check.near(L.svdvals(S.tensor(np.tall, D)), np.sv_tall, 1e-12)
check.near(L.svdvals(S.tensor(np.tall)), np.sv_tall, 1e-5)
-- the Gram route of float32 keeps small singular values to ~1e-7 sigma_1
do
  local u = L.qr(S.randn(60, 8, { rng = S.rng(3), dtype = "float64" }))
  local v = L.qr(S.randn(8, 8, { rng = S.rng(4), dtype = "float64" }))
  local sig = S.tensor({ 100, 10, 1, 0.1, 0.01, 1e-3, 1e-4, 0 }, D)
  local M = (u * sig):mm(v:t())
  local s32 = L.svdvals(M:float())
  check.near(s32, sig, 2e-5 * 100 / 100)   -- absolute 2e-5 relative to sigma_1 = 100 (tol scales with |b|)
  check.truthy(math.abs(s32:get(7) - 1e-4) < 1e-5, "small singular value kept: " .. s32:get(7))
end

-- eigh: ascending, A V = V diag(w), lower triangle read
local Sym = S.tensor(np.sym, D)
local w, V = L.eigh(Sym)
check.near(w, np.eig_sym, 1e-12)
check.truthy(maxdiff(Sym:mm(V), V * w) < 1e-12, "A V = V diag(w)")
check.truthy(maxdiff(V:t():mm(V), eye(5)) < 1e-12, "V orthogonal")
do -- only the lower triangle is read (upper garbage ignored), as torch.linalg.eigh
  local G = Sym:clone()
  for i = 1, 5 do for j = i + 1, 5 do G:set(i, j, 99) end end
  check.near(L.eigh(G), np.eig_sym, 1e-12)
end

-- qr: reduced, Q orthonormal, R upper triangular
for _, shape in ipairs { { 6, 3 }, { 3, 6 }, { 4, 4 } } do
  local A = S.randn(shape[1], shape[2], { rng = S.rng(9), dtype = "float64" })
  local Q, R = L.qr(A)
  local k = math.min(shape[1], shape[2])
  check.eq(Q:size(1), shape[1]); check.eq(Q:size(2), k); check.eq(R:size(1), k); check.eq(R:size(2), shape[2])
  check.truthy(maxdiff(Q:mm(R), A) < 1e-12, "QR = A")
  check.truthy(maxdiff(Q:t():mm(Q), eye(k)) < 1e-12, "Q orthonormal")
  for i = 1, k do for j = 1, i - 1 do check.eq(R:get(i, j), 0, "R upper") end end
end

-- lstsq / pinv / det against NumPy
local X1, r1 = L.lstsq(S.tensor(np.a, D), S.tensor(np.bm, D))
check.near(X1, np.x1, 1e-10); check.eq(r1, 4)
local X2, r2 = L.lstsq(S.tensor(np.au, D), S.tensor(np.bu, D))   -- underdetermined: minimum norm
check.near(X2, np.x2, 1e-10); check.eq(r2, 3); check.eq(X2:dim(), 1)
check.near(L.pinv(S.tensor(np.p, D)), np.pinv_p, 1e-10)
check.near(L.pinv(S.tensor(np.lr, D)), np.pinv_lr, 1e-8)          -- rank 2 of 4
check.near(L.det(S.tensor(np.sq, D)):item(), np.det_sq, 1e-12)
check.eq(L.det(S.tensor({ { 1, 2 }, { 2, 4 } }, D)):item(), 0)
check.near(L.det(S.tensor({ { 0, 1 }, { 1, 0 } })):item(), -1, 1e-7)
check.eq(L.pinv(S.tensor(np.p)):dtype(), "float32")

-- expm against scipy.linalg.expm, all Padé orders and large norms, 1e-6 relative (Frobenius)
for _, c in ipairs(sp.expm) do
  local E = L.expm(S.tensor(c.a, D))
  local ref = S.tensor(c.e, D)
  local rel = fro(E - ref) / fro(ref)
  check.truthy(rel < 1e-6, "expm " .. c.name .. " relative error " .. rel)
end
check.near(L.expm(S.zeros(3, 3)), S.eye(3), 0)
check.eq(L.expm(S.zeros(2, 2)):dtype(), "float32")

-- bad input: every function names itself
local bad = {
  { function() return L.svd(S.zeros(2, 2, 2)) end, "sslua.linalg.svd" },
  { function() return L.svd("x") end, "sslua.linalg.svd" },
  { function() return L.svd(S.zeros(0, 3)) end, "empty" },
  { function() return L.svdvals(S.tensor { 1, 2 }) end, "sslua.linalg.svdvals" },
  { function() return L.eigh(S.zeros(2, 3)) end, "sslua.linalg.eigh: expected a square matrix" },
  { function() return L.qr(S.zeros(3)) end, "sslua.linalg.qr" },
  { function() return L.lstsq(S.zeros(3, 2), S.zeros(4, 1)) end, "sslua.linalg.lstsq" },
  { function() return L.lstsq(S.zeros(3, 2)) end, "sslua.linalg.lstsq" },
  { function() return L.pinv(S.zeros(2)) end, "sslua.linalg.pinv" },
  { function() return L.det(S.zeros(2, 3)) end, "sslua.linalg.det" },
  { function() return L.expm(S.zeros(2, 3)) end, "sslua.linalg.expm: expected a square matrix" },
  { function() return L.expm(S.tensor { { 0 / 0, 0 }, { 0, 0 } }) end, "NaN" },
  { function() return L.expm(S.tensor({ { 1e300, 0 }, { 0, 1 } }, D)) end, "sslua.linalg.expm" },
  { function() return L.svd(S.tensor { { math.huge, 0 }, { 0, 1 } }) end, "NaN or infinity" },
}
for _, b in ipairs(bad) do check.errors(b[1], b[2]) end
print("test_linalg_basics: ok")
