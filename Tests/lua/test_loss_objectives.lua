-- sslua.loss.vicreg / barlow_twins / byol / moco: values and gradients against the papers'
-- reference code run in PyTorch float64 (Tests/fixtures/make_objectives.py), edge cases
-- (batch of 2, constant features, D = 1), stop-gradient targets, float64 finite differences,
-- float32, options and bad input.
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local S = sslua
local loss = S.loss
local D = { dtype = "float64" }
local function T(t) return S.tensor(t, D) end
local FX = "Tests/fixtures/objectives/"

local function names(t)
  local out = {}
  for k in pairs(t) do out[#out + 1] = k end
  table.sort(out)
  return out
end

-- VICReg and Barlow Twins: both inputs get gradients
for _, spec in ipairs {
  { name = "vicreg", fn = loss.vicreg, fx = dofile(FX .. "vicreg.lua") },
  { name = "barlow_twins", fn = loss.barlow_twins, fx = dofile(FX .. "barlow_twins.lua") },
} do
  check.truthy(#names(spec.fx) >= 7, spec.name .. " fixture cases")
  for _, case in ipairs(names(spec.fx)) do
    local c = spec.fx[case]
    local what = spec.name .. " " .. case
    local z1, z2 = T(c.z1):requires_grad_(), T(c.z2):requires_grad_()
    local l = spec.fn(z1, z2, c.opts)
    check.eq(l:dtype(), "float64", what .. " dtype")
    check.near(l:item(), c.loss, 1e-11, what)
    l:backward()
    check.near(z1.grad, c.g1, 1e-10, what .. " grad z1")
    check.near(z2.grad, c.g2, 1e-10, what .. " grad z2")
    -- float32 in, float32 out, same values to float precision
    local a, b = S.tensor(c.z1):requires_grad_(), S.tensor(c.z2):requires_grad_()
    local l32 = spec.fn(a, b, c.opts)
    check.eq(l32:dtype(), "float32", what .. " float32 dtype")
    check.near(l32:item(), c.loss, 1e-4, what .. " float32")
    l32:backward()
    check.eq(a.grad:dtype(), "float32", what .. " float32 grad dtype")
    check.near(a.grad, c.g1, 1e-4, what .. " float32 grad")
  end
end

-- BYOL: p gets the gradient, the target z never does (stop-gradient), even if it asks for one
do
  local fx = dofile(FX .. "byol.lua")
  for _, case in ipairs(names(fx)) do
    local c = fx[case]
    local what = "byol " .. case
    local p, z = T(c.z1):requires_grad_(), T(c.z2):requires_grad_()
    local l = loss.byol(p, z)
    check.near(l:item(), c.loss, 1e-12, what)
    l:backward()
    check.near(p.grad, c.g1, 1e-10, what .. " grad p")
    check.eq(z.grad, nil, what .. " no gradient to the target")
  end
  -- a target alone that requires grad: the loss is a constant of it
  local z = T(fx.general.z2):requires_grad_()
  check.eq(loss.byol(T(fx.general.z1), z).requires_grad, false, "byol target only: constant")
  -- p = z: loss 0; p = -z: loss 4
  local x = S.randn(5, 3, { rng = S.rng(1), dtype = "float64" })
  check.near(loss.byol(x, x):item(), 0, 1e-12, "byol p = z")
  check.near(loss.byol(x, -x):item(), 4, 1e-12, "byol p = -z")
  check.near(loss.byol(x * 3, x):item(), 0, 1e-12, "byol scale invariant")
end

-- MoCo v2: cross entropy against [positive key, queue], q only gets the gradient
do
  local fx = dofile(FX .. "moco.lua")
  for _, case in ipairs(names(fx)) do
    local c = fx[case]
    local what = "moco " .. case
    local q, k, queue = T(c.q):requires_grad_(), T(c.k):requires_grad_(), T(c.queue):requires_grad_()
    local l = loss.moco(q, k, queue, { temperature = c.temperature })
    check.near(l:item(), c.loss, 1e-12, what)
    l:backward()
    check.near(q.grad, c.g, 1e-10, what .. " grad q")
    check.eq(k.grad, nil, what .. " keys constant")
    check.eq(queue.grad, nil, what .. " queue constant")
  end
  -- hand computation: q = k = e1, queue = {e2, -e1}, T = 0.5:
  -- logits {2, 0, -2}, loss = -2 + log(e^2 + 1 + e^-2)
  local q, k = T { { 1, 0 } }, T { { 2, 0 } }
  local queue = T { { 0, 1 }, { -1, 0 } }
  check.near(loss.moco(q, k, queue, { temperature = 0.5 }):item(),
    -2 + math.log(math.exp(2) + 1 + math.exp(-2)), 1e-12, "moco by hand")
  -- default temperature 0.2: logits {5, 0, -5}
  check.near(loss.moco(q, k, queue):item(), -5 + math.log(math.exp(5) + 1 + math.exp(-5)), 1e-12, "moco default T")
end

-- hand-computed VICReg / Barlow Twins on a tiny batch (N = 2, D = 1):
-- z1 = {0, 2}, z2 = {1, 1}: mse = (1 + 1) / 2 = 1; std_x = sqrt(2 + 1e-4) > 1, std_y = 0.01
-- -> std_loss = (1 - 0.01) / 2; no off-diagonal (D = 1)
do
  local z1, z2 = T { { 0 }, { 2 } }, T { { 1 }, { 1 } }
  check.near(loss.vicreg(z1, z2):item(), 25 * 1 + 25 * (1 - 0.01) / 2, 1e-12, "vicreg by hand")
  -- Barlow: bn(z1) = {-1, 1} / sqrt(1 + 1e-5), bn(z2) = {0, 0}: c = 0, loss = 1
  check.near(loss.barlow_twins(z1, z2):item(), 1, 1e-12, "barlow by hand")
  -- identical views standardised: c_11 = 1 / (1 + 1e-5) -> (1 - c)^2
  local c11 = 1 / (1 + 1e-5)
  check.near(loss.barlow_twins(z1, z1):item(), (1 - c11) ^ 2, 1e-12, "barlow same view")
end

-- float64 finite differences (sslua.grad_check) on random batches, hinge on and off
do
  local rng = S.rng(7)
  for _, scale in ipairs { 0.4, 3 } do
    local a = S.randn(6, 4, { rng = rng, dtype = "float64" }) * scale
    local b = S.randn(6, 4, { rng = rng, dtype = "float64" }) * scale
    a:requires_grad_(); b:requires_grad_()
    for _, f in ipairs {
      { "vicreg", function(x, y) return loss.vicreg(x, y) end },
      { "vicreg opts", function(x, y) return loss.vicreg(x, y, { sim = 1.5, var = 2, cov = 0.7 }) end },
      { "barlow_twins", function(x, y) return loss.barlow_twins(x, y, { lambda = 0.2 }) end },
      -- the target, the keys and the queue are constants: only the first input is checked
      { "byol", function(x) return loss.byol(x, b) end, true },
      { "moco", function(x) return loss.moco(x, b, b:detach():t():t():mul(0.3) + 0.1, { temperature = 0.3 }) end, true },
    } do
      local ok, err, msg = S.grad_check(f[2], f[3] and { a } or { a, b })
      check.truthy(ok, f[1] .. " grad_check scale " .. scale .. ": " .. tostring(err) .. " " .. tostring(msg))
    end
  end
end

-- options are strict, bad input names the function
check.errors(function() loss.vicreg(S.randn(4, 3), S.randn(4, 3), { sim = 1, variance = 2 }) end, "unknown option 'variance'")
check.errors(function() loss.barlow_twins(S.randn(4, 3), S.randn(4, 3), { lamda = 1 }) end, "did you mean 'lambda'")
check.errors(function() loss.moco(S.randn(4, 3), S.randn(4, 3), S.randn(5, 3), { t = 1 }) end, "unknown option")
check.errors(function() loss.vicreg(S.randn(1, 3), S.randn(1, 3)) end, "sslua.loss.vicreg")
check.errors(function() loss.barlow_twins(S.randn(1, 3), S.randn(1, 3)) end, "N >= 2")
check.errors(function() loss.vicreg(S.randn(4, 3), S.randn(4, 2)) end, "same size")
check.errors(function() loss.byol(S.randn(4), S.randn(4)) end, "sslua.loss.byol")
check.errors(function() loss.moco(S.randn(4, 3), S.randn(4, 3), S.randn(5, 2)) end, "queue must be K x 3")
check.errors(function() loss.moco(S.randn(4, 3), S.randn(4, 3), {}) end, "queue")
check.errors(function() loss.moco(S.randn(4, 3), S.randn(4, 3), S.randn(5, 3), { temperature = 0 }) end, "temperature")
check.errors(function() loss.vicreg(S.randn(4, 3), S.randn(4, 3), { sim = 0 / 0 }) end, "sim must be")

-- version counters: modifying an input after the forward makes backward refuse
do
  local a = S.randn(4, 3, D):requires_grad_()
  local b = S.randn(4, 3, D)
  local base = a * 1
  local l = loss.vicreg(base, b)
  S.no_grad(function() base:add_(1) end)
  check.errors(function() l:backward() end, "modified")
end
print("ok")
