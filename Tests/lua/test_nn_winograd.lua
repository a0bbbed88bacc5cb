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

local cc = require "convcheck"
local run, maxrel = cc.run, cc.maxrel

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
sslua.manual_seed(7)
for _, s in ipairs({ { 8, 16, 24, 32, 32, 1 }, { 4, 32, 32, 17, 15, 1 }, { 6, 64, 48, 8, 8, 1 },
                     { 3, 24, 16, 11, 21, 0 }, { 2, 16, 16, 9, 9, 2 } }) do
  cc.against_float64(s, 2e-5, 2e-6)
end

-- determinism: the same thread count gives bitwise the same results; 1 and 12 threads (each
-- worker with its own buffers and partial weight-gradient sums) agree with 2
sslua.manual_seed(3)
cc.thread_consistency(sslua.randn(4, 16, 12, 12), sslua.randn(16, 16, 3, 3), sslua.randn(4, 16, 12, 12), { 1, 12 })

-- small channel counts and other strides still take im2col and agree with float64
do
  sslua.manual_seed(5)
  local x, w = sslua.randn(2, 3, 9, 9), sslua.randn(8, 3, 3, 3)
  local y = F.conv2d(x, w, nil, { padding = 1 })
  local y64 = F.conv2d(x:double(), w:double(), nil, { padding = 1 })
  check.truthy(maxrel(y, y64) < 2e-6, "3 input channels")
end
print("ok")
