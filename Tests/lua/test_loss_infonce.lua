-- sslua.loss.infonce / infonce_terms / upper_bound: PyTorch fixtures, Prop. C.1, Prop. 3.1,
-- float64 finite-difference gradients, bad input.
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local G = require "gradcheck"
local S = sslua
local loss = S.loss
local fx = dofile("Tests/fixtures/math/loss.lua")
local D = { dtype = "float64" }
local function T(t) return S.tensor(t, D) end

-- values and gradients against PyTorch (float64), both forms, several beta, N = 2, symmetric
for _, c in ipairs(fx.infonce) do
  local what = string.format("infonce %s N=%d beta=%g sym=%s", c.form, c.n, c.beta, tostring(c.symmetric))
  local z1, z2 = T(c.z1):requires_grad_(), T(c.z2):requires_grad_()
  local l = loss.infonce(z1, z2, { beta = c.beta, form = c.form, symmetric = c.symmetric })
  check.near(l:item(), c.loss, 1e-12, what)
  l:backward()
  check.near(z1.grad, c.g1, 1e-10, what .. " grad z1")
  check.near(z2.grad, c.g2, 1e-10, what .. " grad z2")
  -- float32 agrees to float precision
  local a, b = S.tensor(c.z1):requires_grad_(), S.tensor(c.z2):requires_grad_()
  local l32 = loss.infonce(a, b, { beta = c.beta, form = c.form, symmetric = c.symmetric })
  check.eq(l32:dtype(), "float32")
  check.near(l32:item(), c.loss, 2e-5, what .. " float32")
  l32:backward()
  check.near(a.grad, c.g1, 2e-5, what .. " float32 grad")
end
-- defaults: paper form, beta 2, not symmetric; ntxent symmetric by default
do
  local c = fx.infonce[2]
  check.near(loss.infonce(T(c.z1), T(c.z2)):item(), c.loss, 1e-12, "defaults")
end

-- finite differences (float64) for both forms, symmetric and not
local rng = S.rng(42)
-- (beta > 30 with all anchors takes the per-row path instead of the shared-shift triangle)
for _, opt in ipairs { { form = "paper" }, { form = "paper", symmetric = true }, { form = "ntxent", beta = 3 },
                       { form = "ntxent", beta = 40 }, { form = "paper", symmetric = true, beta = 35 },
                       { form = "ntxent", symmetric = false, beta = 0.7 } } do
  G.gradcheck(function(x) return loss.infonce(x[1], x[2], opt) end,
    { S.randn(3, 4, { rng = rng, dtype = "float64" }), S.randn(3, 4, { rng = rng, dtype = "float64" }) },
    1e-6, 1e-6, "infonce " .. opt.form)
end

-- float32 (vector exp, triangle path) against float64 on a larger batch, every form
do
  local a64 = S.randn(96, 24, { rng = rng, dtype = "float64" })
  local b64 = a64 + S.randn(96, 24, { rng = rng, dtype = "float64" }) * 0.7
  for _, opt in ipairs { { form = "paper" }, { form = "paper", symmetric = true }, { form = "ntxent" },
                         { form = "ntxent", symmetric = false }, { form = "ntxent", beta = 14.3 },
                         { form = "ntxent", beta = 45 } } do
    local x, y = a64:clone():requires_grad_(), b64:clone():requires_grad_()
    local l = loss.infonce(x, y, opt); l:backward()
    local x32, y32 = a64:float():requires_grad_(), b64:float():requires_grad_()
    local l32 = loss.infonce(x32, y32, opt); l32:backward()
    local what = opt.form .. " beta " .. tostring(opt.beta) .. " sym " .. tostring(opt.symmetric)
    check.near(l32:item(), l:item(), 1e-5, what)
    check.truthy((x32.grad:double() - x.grad):abs():max():item() < 1e-6, what .. " grad")
    check.truthy((y32.grad:double() - y.grad):abs():max():item() < 1e-6, what .. " grad y")
  end
end

-- Prop. C.1: l_i = invariance_i + repulsion_i + entropy_i exactly (float64), on many batches
for trial = 1, 30 do
  local n, d = 2 + trial % 7, 1 + trial % 5
  local beta = 0.25 + (trial % 6)
  local z1 = S.randn(n, d, { rng = rng, dtype = "float64" })
  local z2 = S.randn(n, d, { rng = rng, dtype = "float64" })
  local t = loss.infonce_terms(z1, z2, { beta = beta })
  local l = loss.infonce(z1, z2, { beta = beta })
  check.near(t.mean.loss:item(), l:item(), 1e-12, "Prop. C.1 trial " .. trial)
  check.near((t.invariance + t.repulsion + t.entropy):mean():item(), l:item(), 1e-12, "Prop. C.1 sum")
  check.near(t.mean.invariance:item(), t.invariance:mean():item(), 1e-14)
  -- entropy of a distribution over 2N-2 points lies in [0, log(2N-2)]
  check.truthy(t.entropy:min():item() >= -1e-12 and t.entropy:max():item() <= math.log(2 * n - 2) + 1e-12, "entropy range")
end
-- the terms against PyTorch, and their gradients
do
  local c = fx.terms
  local z1, z2 = T(c.z1):requires_grad_(), T(c.z2):requires_grad_()
  local t = loss.infonce_terms(z1, z2, { beta = c.beta })
  check.near(t.invariance, c.invariance, 1e-12, "terms invariance")
  check.near(t.repulsion, c.repulsion, 1e-12, "terms repulsion")
  check.near(t.entropy, c.entropy, 1e-12, "terms entropy")
  for _, name in ipairs { "invariance", "repulsion", "entropy" } do
    local a, b = T(c.z1):requires_grad_(), T(c.z2):requires_grad_()
    loss.infonce_terms(a, b, { beta = c.beta }).mean[name]:backward()
    check.near(a.grad, c["g1_" .. name], 1e-10, "grad z1 of " .. name)
    check.near(b.grad, c["g2_" .. name], 1e-10, "grad z2 of " .. name)
  end
  -- per-sample terms, weighted: finite differences
  local wts = S.randn(4, { rng = rng, dtype = "float64" })
  for _, name in ipairs { "invariance", "repulsion", "entropy" } do
    G.gradcheck(function(x) return (loss.infonce_terms(x[1], x[2], { beta = 1.3 })[name] * wts):sum() end,
      { T(c.z1), T(c.z2) }, 1e-6, 1e-6, "terms " .. name)
  end
end

-- Prop. 3.1 against PyTorch: value, pieces, nearest (1-based, never i or N+i), gradients
do
  local c = fx.upper
  local h1, h2, W = T(c.h1):requires_grad_(), T(c.h2):requires_grad_(), T(c.W):requires_grad_()
  local up, parts = loss.upper_bound(h1, h2, W, { beta = c.beta })
  check.near(up:item(), c.upper, 1e-12, "L_upper")
  check.near(parts.invariance:item(), c.invariance, 1e-12)
  check.near(parts.repulsion:item(), c.repulsion, 1e-12)
  check.near(parts.constant, math.log(2 * (5 - 1)), 1e-15)
  check.near(parts.nearest, c.nearest, 0)
  up:backward()
  check.near(h1.grad, c.g_h1, 1e-10, "grad h1"); check.near(h2.grad, c.g_h2, 1e-10, "grad h2")
  check.near(W.grad, c.g_W, 1e-10, "grad W")
  check.truthy(up:item() >= c.infonce, "bound holds on the fixture")
  -- a single term is differentiable on its own
  local W2 = T(c.W):requires_grad_()
  local _, p2 = loss.upper_bound(T(c.h1), T(c.h2), W2, { beta = c.beta })
  p2.invariance:backward()
  check.near(W2.grad, c.inv_g_W, 1e-10, "grad W of invariance")
  local h1b = T(c.h1):requires_grad_()
  local _, p3 = loss.upper_bound(h1b, T(c.h2), T(c.W))
  p3.repulsion:backward()
  check.near(h1b.grad, c.rep_g_h1, 1e-10, "grad h1 of repulsion")
  G.gradcheck(function(x) return (loss.upper_bound(x[1], x[2], x[3], { beta = 3 })) end,
    { T(c.h1), T(c.h2), T(c.W) }, 1e-6, 1e-6, "upper_bound")
end

-- Prop. 3.1: L_upper >= L_paper on many random batches (float64), beta and shapes varied
for trial = 1, 60 do
  local n, de, dp = 2 + trial % 9, 2 + trial % 6, 1 + trial % 4
  local beta = 0.1 + (trial % 8) * 0.9
  local h1 = S.randn(n, de, { rng = rng, dtype = "float64" })
  local h2 = S.randn(n, de, { rng = rng, dtype = "float64" })
  local W = S.randn(de, dp, { rng = rng, dtype = "float64" })
  local up, parts = loss.upper_bound(h1, h2, W, { beta = beta })
  local lp = loss.infonce(h1:mm(W), h2:mm(W), { beta = beta })
  check.truthy(up:item() >= lp:item() - 1e-12,
    string.format("Prop. 3.1 trial %d: L_upper %.12g < InfoNCE %.12g", trial, up:item(), lp:item()))
  for i = 1, n do
    local k = parts.nearest:get(i)
    check.truthy(k ~= i and k ~= n + i and k >= 1 and k <= 2 * n, "nearest excludes i and N+i")
  end
end

-- bad input names the function
local z = S.randn(4, 3)
local bad = {
  { function() return loss.infonce(z, S.randn(5, 3)) end, "sslua.loss.infonce: z1 and z2 must have the same size" },
  { function() return loss.infonce(S.randn(1, 3), S.randn(1, 3)) end, "N >= 2" },
  { function() return loss.infonce(z, z, { form = "nce" }) end, "unknown form" },
  { function() return loss.infonce(z, z, { beta = -1 }) end, "beta" },
  { function() return loss.infonce(z, z, { beta = "2" }) end, "sslua.loss.infonce" },
  { function() return loss.infonce(z) end, "sslua.loss.infonce" },
  { function() return loss.infonce(S.randn(4), S.randn(4)) end, "2-d" },
  { function() return loss.infonce_terms(z, S.randn(4, 2)) end, "sslua.loss.infonce_terms" },
  { function() return loss.infonce_terms(S.randn(1, 3), S.randn(1, 3)) end, "N >= 2" },
  { function() return loss.upper_bound(z, z, S.randn(3, 3, 1)) end, "sslua.loss.upper_bound: W" },
  { function() return loss.upper_bound(z, z, S.randn(2, 3)) end, "pass weight:t()" },
  { function() return loss.upper_bound(z, z) end, "sslua.loss.upper_bound" },
  { function() return loss.upper_bound(z, z, S.randn(3, 2), 5) end, "sslua.loss.upper_bound: bad argument #4" },
  { function() return loss.infonce_terms(z, z, "x") end, "sslua.loss.infonce_terms: bad argument #3" },
  { function() return loss.infonce(z, z, 2) end, "sslua.loss.infonce: bad argument #3" },
  { function() return loss.upper_bound(z, S.randn(3, 3), S.randn(3, 2)) end, "same size" },
  { function() return loss.upper_bound(S.randn(1, 3), S.randn(1, 3), S.randn(3, 2)) end, "N >= 2" },
}
for _, b in ipairs(bad) do check.errors(b[1], b[2]) end
print("test_loss_infonce: ok")
