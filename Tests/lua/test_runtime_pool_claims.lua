-- The pool hands chunks to whichever thread is free (pool.c claims them from one counter), so
-- the thread that runs a chunk varies from run to run, most of all with more threads than
-- cores. Results must not: for a given thread count, kernels whose chunks keep per-chunk
-- partial sums (conv weight gradients on the im2col path, Winograd, batch norm, reductions)
-- give bitwise identical results on every repetition, and each equals a float64 reference
-- (which takes the generic scalar loops, not the float32 SIMD gathers).
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local F = require("sslua.nn").functional

local function same(a, b, what)
  check.eq((a - b):abs():max():item(), 0, what)
end

sslua.manual_seed(7)
-- 10x10 inputs give 5x5 outputs (im2col's offset-map path); 32x31 and 33x34 give 16- and
-- 17-wide outputs (its row path, whose float32 stride-2 gather loads 16 floats at a time)
local cases = {}
for _, sz in ipairs({ { 12, 10, 10 }, { 3, 32, 31 }, { 2, 33, 34 } }) do
  local n, h, w = sz[1], sz[2], sz[3]
  local oh, ow = (h + 1) // 2, (w + 1) // 2   -- 3x3 pad 1 and 1x1 pad 0, both stride 2
  cases[#cases + 1] = {
    x0 = sslua.randn(n, 16, h, w), w3 = sslua.randn(24, 16, 3, 3) * 0.1, w1 = sslua.randn(24, 16, 1, 1) * 0.1,
    r = sslua.randn(n, 24, oh, ow), rw = sslua.randn(n, 16, h, w), name = ("%dx%d"):format(h, w) }
end
local bw, bb = sslua.rand(16) + 0.5, sslua.randn(16)

local function step(c, double)
  local cv = double and function(t) return t:double() end or function(t) return t:clone() end
  local x = cv(c.x0):requires_grad_()
  local a, b = cv(c.w3):requires_grad_(), cv(c.w1):requires_grad_()
  -- a stride-2 3x3 conv (im2col and col2im), a 1x1 stride-2 conv, batch norm + ReLU on x
  local y = F.conv2d(x, a, nil, { stride = 2, padding = 1 }) + F.conv2d(x, b, nil, { stride = 2 })
  local z = F.batch_norm(x, nil, nil, { weight = cv(bw), bias = cv(bb), training = true, relu = true })
  local loss = (y * cv(c.r)):sum() + (z * cv(c.rw)):sum() + x:sum()
  loss:backward()
  return y:detach(), x.grad, a.grad, b.grad, loss:item()
end

for _, th in ipairs({ 2, 3, 4 }) do
  sslua.threads(th)
  for _, c in ipairs(cases) do
    local y1, gx1, ga1, gb1, l1 = step(c)
    for rep = 1, 4 do
      local y, gx, ga, gb, l = step(c)
      local what = ("%s, %d threads, repetition %d"):format(c.name, th, rep)
      same(y, y1, what .. ": output")
      same(gx, gx1, what .. ": input gradient")
      same(ga, ga1, what .. ": 3x3 weight gradient")
      same(gb, gb1, what .. ": 1x1 weight gradient")
      check.eq(l, l1, what .. ": loss")
    end
    -- and the values are right: the same step in float64 (the generic scalar loops)
    local y, gx, ga, gb = step(c, true)
    local what = ("%s, %d threads"):format(c.name, th)
    check.near(y1:double(), y, 1e-4, what .. ": output against float64")
    check.near(gx1:double(), gx, 1e-4, what .. ": input gradient against float64")
    check.near(ga1:double(), ga, 1e-4, what .. ": 3x3 weight gradient against float64")
    check.near(gb1:double(), gb, 1e-4, what .. ": 1x1 weight gradient against float64")
  end
end
sslua.threads(2)
print("ok")
