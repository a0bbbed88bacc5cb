-- Winograd F(4x4, 3x3): the path float32 3x3 stride-1 convolutions with >= 8 channels take, in
-- all three passes (output, input gradient, weight gradient; float64 direct references on odd
-- sizes in test_nn_winograd43.lua). Its transforms' coefficients (up to 8 and 1/24) cost
-- float32 about a decimal digit against im2col: tolerances 5e-5 (PyTorch fixtures, per element)
-- and 2e-5 (of the largest value, against float64) on the Winograd path. References: PyTorch in float64
-- (Tests/fixtures/make_nn.py, inputs rounded to float32 so the references are exact for them),
-- and float64 convolutions on larger ResNet-like shapes (float64 takes im2col, whose
-- gradients the finite-difference checks cover).
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local F = require("sslua.nn").functional
local fx = dofile("Tests/fixtures/nn/winograd.lua")
local T = sslua.tensor

check.eq(sslua._nn.winograd(), true, "Winograd is on by default")

local function run(x, w, b, pad, r)
  local y = F.conv2d(x, w, b, { padding = pad })
  ;(y * r):sum():backward()
  return y, x.grad, w.grad, b and b.grad
end

-- against PyTorch, with Winograd and, switched off, with im2col
for _, on in ipairs({ true, false }) do
  sslua._nn.winograd(on)
  for name, c in pairs(fx) do
    local x, w = T(c.x):requires_grad_(), T(c.w):requires_grad_()
    local b = c.b and T(c.b):requires_grad_() or nil
    local y, gx, gw, gb = run(x, w, b, c.padding, T(c.r))
    local what = name .. (on and " (winograd)" or " (im2col)")
    local tol = on and 5e-5 or 1e-5
    check.near(y, c.y, tol, what .. " forward")
    check.near(gx, c.gx, tol, what .. " grad input")
    check.near(gw, c.gw, tol, what .. " grad weight")
    if b then check.near(gb, c.gb, tol, what .. " grad bias") end
  end
end
sslua._nn.winograd(true)

-- ResNet-like shapes (several blocks of tile rows per worker, 8-wide vector loops with and
-- without tails) against float64
local function maxrel(a, b) return (a:double() - b):abs():max():item() / b:abs():max():item() end
sslua.manual_seed(7)
for _, s in ipairs({ { 8, 16, 24, 32, 32, 1 }, { 4, 32, 32, 17, 15, 1 }, { 6, 64, 48, 8, 8, 1 },
                     { 3, 24, 16, 11, 21, 0 }, { 2, 16, 16, 9, 9, 2 } }) do
  local n, c, k, h, wd, pad = table.unpack(s)
  local x = sslua.randn(n, c, h, wd)
  local w = sslua.randn(k, c, 3, 3) * (1 / math.sqrt(9 * c))
  local b = sslua.randn(k)
  local r = sslua.randn(n, k, h + 2 * pad - 2, wd + 2 * pad - 2)
  local y32, gx32, gw32, gb32 = run(x:clone():requires_grad_(), w:clone():requires_grad_(), b:clone():requires_grad_(), pad, r)
  local y64, gx64, gw64, gb64 = run(x:double():requires_grad_(), w:double():requires_grad_(), b:double():requires_grad_(), pad, r:double())
  local what = table.concat(s, "x")
  check.truthy(maxrel(y32, y64) < 2e-5, what .. " forward within 2e-5 of float64, got " .. maxrel(y32, y64))
  check.truthy(maxrel(gx32, gx64) < 2e-5, what .. " grad input within 2e-5, got " .. maxrel(gx32, gx64))
  check.truthy(maxrel(gw32, gw64) < 2e-5, what .. " grad weight within 2e-5, got " .. maxrel(gw32, gw64))
  check.truthy(maxrel(gb32, gb64) < 2e-6, what .. " grad bias within 2e-6, got " .. maxrel(gb32, gb64))
end

-- determinism: the same thread count gives bitwise the same results; 1 and 2 threads agree
do
  sslua.manual_seed(3)
  local x, w, r = sslua.randn(4, 16, 12, 12), sslua.randn(16, 16, 3, 3), sslua.randn(4, 16, 12, 12)
  local function once(threads)
    sslua.threads(threads)
    local y, gx, gw = run(x:clone():requires_grad_(), w:clone():requires_grad_(), nil, 1, r)
    return y, gx, gw
  end
  local y1, gx1, gw1 = once(2)
  local y2, gx2, gw2 = once(2)
  check.eq((y1 - y2):abs():max():item(), 0, "forward bitwise repeatable")
  check.eq((gx1 - gx2):abs():max():item(), 0, "grad input bitwise repeatable")
  check.eq((gw1 - gw2):abs():max():item(), 0, "grad weight bitwise repeatable")
  local y3, gx3, gw3 = once(1)
  check.truthy(maxrel(y3, y1:double()) < 1e-5, "forward: 1 thread vs 2")
  check.truthy(maxrel(gw3, gw1:double()) < 1e-5, "grad weight: 1 thread vs 2")
  -- many workers (each with its own buffers and partial weight-gradient sums)
  local y12, gx12, gw12 = once(12)
  check.truthy(maxrel(y12, y1:double()) < 1e-5, "forward: 12 threads vs 2")
  check.truthy(maxrel(gx12, gx1:double()) < 1e-5, "grad input: 12 threads vs 2")
  check.truthy(maxrel(gw12, gw1:double()) < 1e-5, "grad weight: 12 threads vs 2")
  sslua.threads(2)
end

-- small channel counts and other strides still take im2col and agree with float64
do
  sslua.manual_seed(5)
  local x, w = sslua.randn(2, 3, 9, 9), sslua.randn(8, 3, 3, 3)
  local y = F.conv2d(x, w, nil, { padding = 1 })
  local y64 = F.conv2d(x:double(), w:double(), nil, { padding = 1 })
  check.truthy(maxrel(y, y64) < 2e-6, "3 input channels")
end
print("ok")
