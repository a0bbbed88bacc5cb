-- sslua.geom: nearest negatives (brute force), normalized distance, label agreement,
-- weighted kNN (NumPy reference), linear probe (SciPy L-BFGS optimum).
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local S = sslua
local geom = S.geom
local fx = dofile("Tests/fixtures/math/numpy.lua")
local sp = dofile("Tests/fixtures/math/scipy.lua")
local D = { dtype = "float64" }

-- brute force in Lua: argmax over the pool of cos(W^T h_i1, W^T pool_l), l not i, N+i
local function brute(h1, h2, W)
  local n = h1:size(1)
  local g1, pool = h1:double():mm(W:double()), S.cat and nil
  local H = {}
  for i = 1, n do H[i] = h1[i] end
  for i = 1, n do H[n + i] = h2[i] end
  local function proj(v) return v:double():reshape(1, v:numel()):mm(W:double()):reshape(W:size(2)) end
  local idx = {}
  for i = 1, n do
    local a = proj(H[i])
    local best, bi = -math.huge, nil
    for l = 1, 2 * n do
      if l ~= i and l ~= n + i then
        local b = proj(H[l])
        local c = (a * b):sum():item() / math.sqrt((a * a):sum():item() * (b * b):sum():item())
        if c > best then best, bi = c, l end
      end
    end
    idx[i] = bi
  end
  return idx, H
end

local rng = S.rng(3)
for trial = 1, 5 do
  local n, de, dp = 3 + trial, 6, 2 + trial % 3
  local h1 = S.randn(n, de, { rng = rng }); local h2 = S.randn(n, de, { rng = rng })
  local W = S.randn(de, dp, { rng = rng })
  local idx, rows = geom.nearest_negative(h1, h2, W)
  local ref, H = brute(h1, h2, W)
  check.near(idx, ref, 0, "nearest negatives trial " .. trial)
  for i = 1, n do check.near(rows[i], H[ref[i]], 0, "h~* rows") end
  -- the same indices as upper_bound's
  local _, parts = S.loss.upper_bound(h1, h2, W)
  check.near(parts.nearest, ref, 0)
end
-- without W: nearest in encoder space (identity projector)
do
  local h1 = S.tensor { { 1, 0 }, { 0, 1 }, { -1, 0.1 } }
  local h2 = S.tensor { { 0.9, 0.1 }, { 0.1, 1 }, { -1, 0 } }
  local idx = geom.nearest_negative(h1, h2)
  check.near(idx, { 5, 4, 2 }, 0)
end

-- normalized distance (Fig. 5): rows normalised, hand values
check.near(geom.normalized_distance(S.tensor { { 3, 0 }, { 0, 2 } }, S.tensor { { 0, 5 }, { 0, 7 } }),
  { math.sqrt(2), 0 }, 1e-7)

-- label agreement (Fig. 6)
check.near(geom.label_agreement(S.tensor { 2, 1, 4 }, S.tensor { 1, 2, 3, 3 }, S.tensor { 2, 1, 1 }), 2 / 3, 1e-12)
check.near(geom.label_agreement({ 3, 3 }, { 5, 6, 7 }, { 7, 6 }), 0.5, 1e-12)

-- weighted kNN against NumPy on synthetic clusters (float64 features given in float32 too)
local k = fx.knn
for _, dt in ipairs { "float32", "float64" } do
  local tr, te = S.tensor(k.train, { dtype = dt }), S.tensor(k.test, { dtype = dt })
  local args = { train = tr, train_labels = S.tensor(k.train_labels), test = te, test_labels = k.test_labels }
  args.k = 20
  check.near(geom.knn_accuracy(args), k.acc_20, 1e-12, "knn k=20 " .. dt)
  args.k = nil                                  -- defaults k = 200, T = 0.07
  check.near(geom.knn_accuracy(args), k.acc_200, 1e-12, "knn defaults " .. dt)
  args.k, args.temperature = 5, 0.5
  check.near(geom.knn_accuracy(args), k.acc_5_t05, 1e-12, "knn k=5 T=0.5 " .. dt)
end
-- more test rows than one block (128): every row is counted once
do
  local tr = S.tensor(k.train)
  local te = S.tensor(k.train):narrow(1, 1, 200)
  local a = geom.knn_accuracy { train = tr, train_labels = k.train_labels, test = te,
    test_labels = S.tensor(k.train_labels):narrow(1, 1, 200), k = 1 }
  check.near(a, 1, 1e-12, "k=1 on the training rows themselves")
end

-- linear probe: reaches the optimum SciPy's L-BFGS finds for the same objective
do
  local p = sp.probe
  local te, tr, info = geom.linear_probe { train = S.tensor(p.train, D), train_labels = p.train_labels,
    test = S.tensor(p.test, D), test_labels = S.tensor(p.test_labels), weight_decay = p.weight_decay }
  check.near(info.loss, p.loss, 1e-7, "probe loss")
  check.near(tr, p.train_acc, 1e-12, "probe train accuracy")
  check.near(te, p.test_acc, 1e-12, "probe test accuracy")
  local te32, tr32, info32 = geom.linear_probe { train = S.tensor(p.train), train_labels = p.train_labels,
    test = S.tensor(p.test), test_labels = p.test_labels, weight_decay = p.weight_decay }
  check.near(info32.loss, p.loss, 1e-4, "probe loss float32")
  check.truthy(math.abs(te32 - p.test_acc) <= 1 / 60 + 1e-12, "float32 probe accuracy")
end

local z = S.randn(4, 3)
local bad = {
  { function() return geom.nearest_negative(z, S.randn(3, 3), S.randn(3, 2)) end, "sslua.geom.nearest_negative" },
  { function() return geom.nearest_negative(z, z, S.randn(2, 3)) end, "W must be d_enc x d_proj" },
  { function() return geom.nearest_negative(S.randn(1, 3), S.randn(1, 3)) end, "N >= 2" },
  { function() return geom.normalized_distance(z, S.randn(4, 2)) end, "sslua.geom.normalized_distance" },
  { function() return geom.label_agreement({ 1, 9 }, { 1, 2 }, { 1, 1 }) end, "sslua.geom.label_agreement: index 9" },
  { function() return geom.label_agreement({ 1 }, { 1, 2 }, { 1, 1 }) end, "1 indices but 2 labels" },
  { function() return geom.label_agreement("x", { 1 }, { 1 }) end, "sslua.geom.label_agreement" },
  { function() return geom.knn_accuracy { train = z, train_labels = { 1, 2, 1, 2 }, test = S.randn(2, 4), test_labels = { 1, 1 } } end, "sslua.geom.knn_accuracy: train features have dimension 3" },
  { function() return geom.knn_accuracy { train = z, train_labels = { 1, 2 }, test = z, test_labels = { 1, 1, 1, 1 } } end, "2 train labels for 4" },
  { function() return geom.knn_accuracy { train = z, train_labels = { 1, 2, 1, 2 }, test = z, test_labels = { 1, 1, 1, 1 }, k = 0 } end, "k must be" },
  { function() return geom.knn_accuracy { train_labels = { 1 } } end, "missing tensor field 'train'" },
  { function() return geom.knn_accuracy(z) end, "sslua.geom.knn_accuracy" },
  { function() return geom.linear_probe { train = z, train_labels = { 1, 2, 1, 2 }, test = z, test_labels = { 1, 1, 0, 1 } } end, "sslua.geom.linear_probe: test_labels are 1-based" },
  { function() return geom.linear_probe { train = z, train_labels = { 1, 1, 1, 1 }, test = z, test_labels = { 1, 1, 1, 1 } } end, "at least 2 classes" },
  { function() return geom.linear_probe { train = z, train_labels = { 1, 2, 1, 2 }, test = z, test_labels = { 1, 1, 1, 1 }, epochs = 0 } end, "epochs" },
}
for _, b in ipairs(bad) do check.errors(b[1], b[2]) end
print("test_geom_neighbors: ok")
