-- The pool hands chunks to whichever thread is free (pool.c claims them from one counter), so
-- the thread that runs a chunk varies from run to run, most of all with more threads than
-- cores. Results must not: for a given thread count, kernels whose chunks keep per-chunk
-- partial sums (conv weight gradients on the im2col path, Winograd, batch norm, reductions)
-- give bitwise identical results on every repetition, and each equals a float64 reference.
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local F = require("sslua.nn").functional

local function same(a, b, what)
  check.eq((a - b):abs():max():item(), 0, what)
end

sslua.manual_seed(7)
local x0 = sslua.randn(12, 16, 10, 10)
local w3 = sslua.randn(24, 16, 3, 3) * 0.1
local w1 = sslua.randn(24, 16, 1, 1) * 0.1
local r = sslua.randn(12, 24, 5, 5)
local rw = sslua.randn(12, 16, 10, 10)
local bw, bb = sslua.rand(16) + 0.5, sslua.randn(16)

local function step()
  local x = x0:clone():requires_grad_()
  local a, b = w3:clone():requires_grad_(), w1:clone():requires_grad_()
  -- a stride-2 3x3 conv (im2col and col2im), a 1x1 stride-2 conv, a Winograd conv on x
  local y = F.conv2d(x, a, nil, { stride = 2, padding = 1 }) + F.conv2d(x, b, nil, { stride = 2 })
  local z = F.batch_norm(x, nil, nil, { weight = bw, bias = bb, training = true, relu = true })
  local loss = (y * r):sum() + (z * rw):sum() + x:sum()
  loss:backward()
  return y:detach(), x.grad, a.grad, b.grad, loss:item()
end

for _, th in ipairs({ 2, 3, 4 }) do
  sslua.threads(th)
  local y1, gx1, ga1, gb1, l1 = step()
  for rep = 1, 6 do
    local y, gx, ga, gb, l = step()
    local what = ("%d threads, repetition %d"):format(th, rep)
    same(y, y1, what .. ": output")
    same(gx, gx1, what .. ": input gradient")
    same(ga, ga1, what .. ": 3x3 weight gradient")
    same(gb, gb1, what .. ": 1x1 weight gradient")
    check.eq(l, l1, what .. ": loss")
  end
  -- and the values are right: the same step in float64 (im2col path, serial reference shape)
  local x = x0:double():requires_grad_()
  local a, b = w3:double():requires_grad_(), w1:double():requires_grad_()
  local y = F.conv2d(x, a, nil, { stride = 2, padding = 1 }) + F.conv2d(x, b, nil, { stride = 2 })
  local z = F.batch_norm(x, nil, nil, { weight = bw:double(), bias = bb:double(), training = true, relu = true })
  ;((y * r:double()):sum() + (z * rw:double()):sum() + x:sum()):backward()
  check.near(y1:double(), y, 1e-4, th .. " threads: output against float64")
  check.near(gx1:double(), x.grad, 1e-4, th .. " threads: input gradient against float64")
  check.near(ga1:double(), a.grad, 1e-4, th .. " threads: 3x3 weight gradient against float64")
  check.near(gb1:double(), b.grad, 1e-4, th .. " threads: 1x1 weight gradient against float64")
end
sslua.threads(2)
print("ok")
