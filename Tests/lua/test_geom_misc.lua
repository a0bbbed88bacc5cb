-- sslua.geom: alignment and uniformity (Wang & Isola), histogram (numpy.histogram),
-- linear regions of a ReLU MLP (NumPy reference).
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local S = sslua
local geom = S.geom
local m = dofile("Tests/fixtures/math/numpy.lua").misc
local D = { dtype = "float64" }

check.near(geom.alignment(S.tensor(m.z1, D), S.tensor(m.z2, D)), m.alignment, 1e-12)
check.near(geom.uniformity(S.tensor(m.z1, D)), m.uniformity, 1e-12)
check.near(geom.alignment(S.tensor(m.z1), S.tensor(m.z2)), m.alignment, 1e-6)
check.near(geom.uniformity(S.tensor(m.z1)), m.uniformity, 1e-6)
check.near(geom.alignment(S.tensor { { 1, 0 } , { 0, 2 } }, S.tensor { { 0, 3 }, { 0, 1 } }), 1, 1e-12)  -- (2 + 0) / 2
-- uniformity over more rows than one block of 256: equals the formula on a two-point set repeated
do
  local z = S.zeros(300, 2)
  for i = 1, 300 do z:set(i, 1 + (i % 2), 1) end          -- half (1,0), half (0,1): ||.||^2 = 2 between groups
  -- pairs: 150*150 across (exp(-4)), 2 * C(150, 2) within (exp(0))
  local across, within = 150 * 150, 150 * 149
  check.near(geom.uniformity(z), math.log((across * math.exp(-4) + within) / (across + within)), 1e-9)
end

local c, e = geom.histogram(S.tensor(m.hx, D), 7)
check.near(c, m.hc, 0, "histogram counts"); check.near(e, m.he, 1e-12, "histogram edges")
local c2, e2 = geom.histogram(S.tensor(m.hx, D), 5, { range = { -1, 1 } })
check.near(c2, m.hc2, 0); check.near(e2, m.he2, 1e-12)
local c3, e3 = geom.histogram(S.tensor { 2, 2, 2 }, 2)           -- constant: [v - 0.5, v + 0.5]
check.near(c3, { 0, 3 }, 0); check.near(e3, { 1.5, 2, 2.5 }, 0)
local c4 = geom.histogram(S.tensor { 0, 1, 2, 3, 4 }, 4)            -- last bin closed on the right
check.near(c4, { 1, 1, 1, 2 }, 0)

-- linear regions: {W (out x in), b} per layer, ReLU between
local mlp = { { S.tensor(m.W1, D), S.tensor(m.b1, D) }, { S.tensor(m.W2, D), S.tensor(m.b2, D) },
              { S.tensor(m.W3, D), S.tensor(m.b3, D) } }
local count, ids = geom.linear_regions(mlp, S.tensor(m.H, D))
check.eq(count, m.regions)
check.eq(ids:max():item(), m.regions); check.eq(ids:numel(), 200); check.eq(ids:get(1), 1)
local count1 = geom.linear_regions({ { S.tensor(m.W1), S.tensor(m.b1) }, { S.tensor(m.W2):narrow(2, 1, 6) } }, S.tensor(m.H))
check.eq(count1, m.regions_1)
check.eq(geom.linear_regions({ { S.tensor(m.W1) } }, S.tensor(m.H)), 1)     -- one affine layer: one region
-- hand: y = relu(x) then identity: 1-d input, pattern = sign of x
check.eq(geom.linear_regions({ { S.tensor { { 1 } } }, { S.tensor { { 1 } } } }, S.tensor { { -1 }, { 2 }, { 3 } }), 2)

-- an sslua.nn projector (Linear-BatchNorm1d-ReLU-...-Linear): BatchNorm1d enters through its
-- eval-mode affine map; fresh statistics (mean 0, var 1) leave the pattern of the bare MLP
do
  local nn = S.nn
  local proj = nn.projector { dims = { 3, 6, 5, 2 }, bias = true, rng = S.rng(1) }
  local Hm = S.tensor(m.H)
  local list = { { proj[1].weight, proj[1].bias }, { proj[4].weight, proj[4].bias }, { proj[7].weight, proj[7].bias } }
  local c1, i1 = geom.linear_regions(proj, Hm)
  local c2, i2 = geom.linear_regions(list, Hm)
  check.eq(c1, c2); check.near(i1, i2, 0)
  check.truthy(c1 > 1, "several regions")
  -- shifting BatchNorm's running mean moves the partition: computed by hand as a bias change
  proj[2].running_mean:copy_(S.ones(6))
  local b1 = proj[1].bias - 1
  local c3 = geom.linear_regions(proj, Hm)
  check.eq(c3, geom.linear_regions({ { proj[1].weight, b1 }, { proj[4].weight, proj[4].bias }, { proj[7].weight } }, Hm))
  check.eq(geom.linear_regions(nn.Linear(3, 2), Hm), 1)
  check.errors(function() return geom.linear_regions(nn.Sequential(nn.Conv2d(1, 1, 3)), Hm) end, "unsupported module Conv2d")
end

local bad = {
  { function() return geom.alignment(S.randn(3, 2), S.randn(2, 2)) end, "sslua.geom.alignment" },
  { function() return geom.uniformity(S.randn(1, 2)) end, "sslua.geom.uniformity: uniformity needs at least 2 rows" },
  { function() return geom.uniformity(S.randn(3)) end, "sslua.geom.uniformity" },
  { function() return geom.histogram(S.randn(5), 0) end, "sslua.geom.histogram: bins" },
  { function() return geom.histogram(S.randn(5), 3, { range = { 1, -1 } }) end, "range" },
  { function() return geom.histogram("x", 3) end, "sslua.geom.histogram" },
  { function() return geom.linear_regions({ { S.randn(4, 2) } }, S.randn(5, 3)) end, "sslua.geom.linear_regions: layer 1: weight must be out x in" },
  { function() return geom.linear_regions({ { S.randn(4, 3), S.randn(3) } }, S.randn(5, 3)) end, "bias has 3 values" },
  { function() return geom.linear_regions({}, S.randn(5, 3)) end, "no layers" },
  { function() return geom.linear_regions({ 5 }, S.randn(5, 3)) end, "layer 1 must be a table" },
  { function() return geom.linear_regions(S.randn(2, 2), S.randn(5, 3)) end, "sslua.geom.linear_regions" },
}
for _, b in ipairs(bad) do check.errors(b[1], b[2]) end
print("test_geom_misc: ok")
