-- Shared checks of the float32 3x3 convolution paths (test_nn_winograd*.lua): the same
-- convolution in float32 and in float64 (the float64 one runs im2col, whose gradients the
-- finite-difference checks cover), and its repeatability across thread counts.
--   local cc = require "convcheck"
local check = require "check"
local F = require("sslua.nn").functional
local M = {}

--- conv2d(x, w, b, padding) and the backward of sum(y * r): y, x.grad, w.grad, b.grad.
function M.run(x, w, b, pad, r)
  local y = F.conv2d(x, w, b, { padding = pad })
  ;(y * r):sum():backward()
  return y, x.grad, w.grad, b and b.grad
end

--- max |a - ref| over max |ref| (1 when ref is all zeros), in float64.
function M.maxrel(a, ref)
  local d = (a:double() - ref):abs():max():item()
  local m = ref:abs():max():item()
  return d / (m > 0 and m or 1)
end

--- Draws x, w (scaled by 1/sqrt(9c)), a bias when `bias_tol` is given, and r for the shape
--- {n, c, k, h, w, pad}, then checks the float32 forward and gradients against float64:
--- within `tol` of the largest value (the bias gradient within `bias_tol`).
function M.against_float64(s, tol, bias_tol)
  local n, c, k, h, wd, pad = table.unpack(s)
  pad = pad or 1
  local x = sslua.randn(n, c, h, wd)
  local w = sslua.randn(k, c, 3, 3) * (1 / math.sqrt(9 * c))
  local b = bias_tol and sslua.randn(k) or nil
  local r = sslua.randn(n, k, h + 2 * pad - 2, wd + 2 * pad - 2)
  local y32, gx32, gw32, gb32 = M.run(x:clone():requires_grad_(), w:clone():requires_grad_(),
                                      b and b:clone():requires_grad_(), pad, r)
  local y64, gx64, gw64, gb64 = M.run(x:double():requires_grad_(), w:double():requires_grad_(),
                                      b and b:double():requires_grad_(), pad, r:double())
  local what, t = table.concat(s, "x"), string.format("%g", tol)
  check.truthy(M.maxrel(y32, y64) < tol, what .. " forward within " .. t .. " of float64, got " .. M.maxrel(y32, y64))
  check.truthy(M.maxrel(gx32, gx64) < tol, what .. " grad input within " .. t .. ", got " .. M.maxrel(gx32, gx64))
  check.truthy(M.maxrel(gw32, gw64) < tol, what .. " grad weight within " .. t .. ", got " .. M.maxrel(gw32, gw64))
  if b then
    check.truthy(M.maxrel(gb32, gb64) < bias_tol,
                 what .. " grad bias within " .. string.format("%g", bias_tol) .. ", got " .. M.maxrel(gb32, gb64))
  end
end

--- The convolution of x, w (padding 1, loss sum(y * r)) is bitwise the same twice at 2
--- threads, and within 1e-5 of it at each count in `others` (the weight gradient's per-worker
--- partial sums are added in worker order, so counts differ in rounding only).
function M.thread_consistency(x, w, r, others)
  local function once(threads)
    sslua.threads(threads)
    local y, gx, gw = M.run(x:clone():requires_grad_(), w:clone():requires_grad_(), nil, 1, r)
    return y, gx, gw
  end
  local y1, gx1, gw1 = once(2)
  local y2, gx2, gw2 = once(2)
  check.eq((y1 - y2):abs():max():item(), 0, "forward bitwise repeatable")
  check.eq((gx1 - gx2):abs():max():item(), 0, "grad input bitwise repeatable")
  check.eq((gw1 - gw2):abs():max():item(), 0, "grad weight bitwise repeatable")
  for _, t in ipairs(others) do
    local y3, gx3, gw3 = once(t)
    check.truthy(M.maxrel(y3, y1:double()) < 1e-5, "forward: " .. t .. " threads vs 2")
    check.truthy(M.maxrel(gx3, gx1:double()) < 1e-5, "grad input: " .. t .. " threads vs 2")
    check.truthy(M.maxrel(gw3, gw1:double()) < 1e-5, "grad weight: " .. t .. " threads vs 2")
  end
  sslua.threads(2)
end

return M
