-- sslua.geom spectra: singular values, ranks (Eq. 2, relative, variance), RankMe, FVU (Eq. 10).
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local S = sslua
local geom = S.geom
local fx = dofile("Tests/fixtures/math/numpy.lua")
local D = { dtype = "float64" }

local r = fx.rank
local M = S.tensor(r.M, D)
check.near(geom.singular_values(M), r.sv, 1e-12)
check.eq(geom.rank(M, { tau = 0.05 }), r.tau_0_05)
check.eq(geom.rank(M, { tau = 1 }), r.tau_1)
check.eq(geom.rank(M, { rtol = 0.01 }), r.rtol_0_01)
check.eq(geom.rank(M, { rtol = 5e-5 }), r.rtol_5e_5)
check.eq(geom.rank(M, { variance = 0.9 }), r.var_0_9)
check.eq(geom.rank(M, { variance = 0.99 }), r.var_0_99)
check.eq(geom.rank(M, { variance = 0.9999 }), r.var_0_9999)
check.eq(geom.rank(M), r.default)
check.eq(math.type(geom.rank(M)), "integer")
check.near(geom.effective_rank(M), r.effective, 1e-10)
-- float32 input: the same ranks, RankMe to float precision
local M32 = S.tensor(r.M)
check.eq(geom.rank(M32, { tau = 0.05 }), r.tau_0_05)
check.eq(geom.rank(M32, { variance = 0.99 }), r.var_0_99)
check.near(geom.effective_rank(M32), r.effective, 1e-5)
check.eq(type(geom.effective_rank(M32)), "number")
-- hand-computed: RankMe of the identity is n, rank of a rank-1 outer product is 1
check.near(geom.effective_rank(S.eye(6)), 6, 1e-9)
check.eq(geom.rank(S.ones(5, 4)), 1)
check.eq(geom.rank(S.zeros(3, 3)), 0)

-- FVU against numpy.linalg.lstsq, full-rank and rank-1 (collapsed) W
local f = fx.fvu
check.near(geom.fvu(S.tensor(f.D, D), S.tensor(f.W, D)), f.fvu, 1e-10)
check.near(geom.fvu(S.tensor(f.D, D), S.tensor(f.Wd, D)), f.fvu_d, 1e-10)
check.near(geom.fvu(S.tensor(f.D), S.tensor(f.W)), f.fvu, 1e-6)
-- D inside span(W): 0; W = identity: 0; W orthogonal to D: 1
local W = S.randn(8, 3, { rng = S.rng(1), dtype = "float64" })
check.truthy(geom.fvu(S.randn(5, 3, { rng = S.rng(2), dtype = "float64" }):mm(W:t()), W) < 1e-20, "D in span(W)")
check.near(geom.fvu(S.tensor { { 1, 0, 0 }, { 2, 0, 0 } }, S.tensor { { 0 }, { 1 }, { 0 } }), 1, 1e-12)
check.near(geom.fvu(S.tensor { { 1, 1, 0 } }, S.tensor { { 1 }, { 0 }, { 0 } }), 0.5, 1e-12)

local bad = {
  { function() return geom.singular_values(S.zeros(3)) end, "sslua.geom.singular_values" },
  { function() return geom.rank(M, { tau = 1, rtol = 0.1 }) end, "sslua.geom.rank: give only one" },
  { function() return geom.rank(M, { variance = 1.5 }) end, "variance" },
  { function() return geom.rank(M, { tau = -1 }) end, "tau" },
  { function() return geom.rank(M, 3) end, "sslua.geom.rank" },
  { function() return geom.rank("M") end, "sslua.geom.rank" },
  { function() return geom.effective_rank(S.zeros(2, 2, 2)) end, "sslua.geom.effective_rank" },
  { function() return geom.fvu(S.randn(4, 8), S.randn(3, 8)) end, "sslua.geom.fvu: W must be d_enc x d_proj" },
  { function() return geom.fvu(S.zeros(4, 3), S.randn(3, 2)) end, "zero" },
  { function() return geom.fvu(S.randn(4)) end, "sslua.geom.fvu" },
}
for _, b in ipairs(bad) do check.errors(b[1], b[2]) end
print("test_geom_rank: ok")
