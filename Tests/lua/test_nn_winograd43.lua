-- Winograd F(4x4, 3x3) (Sources/SSLuaCore/NN/Conv2d+Winograd43.swift), the path float32 3x3
-- stride-1 convolutions with >= 8 channels take: forward, input gradient (a convolution with
-- the flipped kernel) and weight gradient (the dual F(3x3, 4x4)), against a float64 direct
-- convolution written here in plain Lua loops (no im2col, no Winograd), on odd sizes: outputs
-- that are not multiples of the 4x4 tile, single rows and columns, padding 0, 1 and 2.
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local F = require("sslua.nn").functional

-- direct float64 reference: y[n][k][i][j] = b[k] + sum x_pad[n][c][i+a][j+b] w[k][c][a][b],
-- gx and gw by the same sums for the loss sum(y * r)
local function direct(x, w, b, r, pad)
  local N, C, H, W = #x, #x[1], #x[1][1], #x[1][1][1]
  local K = #w
  local OH, OW = H + 2 * pad - 2, W + 2 * pad - 2
  local y, gx, gw, gb = {}, {}, {}, {}
  for n = 1, N do
    gx[n] = {}
    for c = 1, C do gx[n][c] = {} for i = 1, H do local row = {} for j = 1, W do row[j] = 0 end gx[n][c][i] = row end end
  end
  for k = 1, K do
    gw[k] = {}
    for c = 1, C do gw[k][c] = { { 0, 0, 0 }, { 0, 0, 0 }, { 0, 0, 0 } } end
    gb[k] = 0
  end
  for n = 1, N do
    y[n] = {}
    for k = 1, K do
      y[n][k] = {}
      local wk, gwk = w[k], gw[k]
      for i = 1, OH do
        local yrow = {}
        for j = 1, OW do
          local s, g = b[k], r[n][k][i][j]
          for c = 1, C do
            local xc, wkc, gwkc, gxc = x[n][c], wk[c], gwk[c], gx[n][c]
            for a = 1, 3 do
              local ii = i + a - 1 - pad
              if ii >= 1 and ii <= H then
                local xrow, wrow, gwrow, gxrow = xc[ii], wkc[a], gwkc[a], gxc[ii]
                for bb = 1, 3 do
                  local jj = j + bb - 1 - pad
                  if jj >= 1 and jj <= W then
                    s = s + xrow[jj] * wrow[bb]
                    gwrow[bb] = gwrow[bb] + xrow[jj] * g
                    gxrow[jj] = gxrow[jj] + wrow[bb] * g
                  end
                end
              end
            end
          end
          yrow[j] = s
          gb[k] = gb[k] + g
        end
        y[n][k][i] = yrow
      end
    end
  end
  return y, gx, gw, gb
end

local cc = require "convcheck"
local maxrel = cc.maxrel

-- (batch, in, out, height, width, padding)
local shapes = {
  { 2, 8, 8, 7, 7, 1 }, { 2, 8, 12, 5, 9, 1 }, { 1, 9, 8, 7, 7, 0 }, { 2, 8, 8, 7, 7, 2 },
  { 3, 8, 8, 3, 3, 0 },          -- a 1x1 output: one tile, 15 of its 16 outputs dropped
  { 1, 8, 8, 1, 1, 1 },          -- a 1x1 input
  { 2, 8, 8, 1, 9, 1 },          -- one row
  { 2, 8, 8, 9, 1, 1 },          -- one column
  { 2, 16, 8, 5, 5, 2 }, { 1, 8, 16, 13, 6, 1 }, { 1, 8, 8, 4, 36, 1 },   -- 9 tiles across: vector + tail
  { 2, 1, 8, 7, 7, 1 },          -- 1 input channel (im2col, same reference)
  { 2, 8, 1, 7, 7, 1 },          -- 1 output channel
}
sslua.manual_seed(11)
for _, s in ipairs(shapes) do
  local n, c, k, h, wd, pad = table.unpack(s)
  local x = sslua.randn(n, c, h, wd)
  local w = sslua.randn(k, c, 3, 3) * (1 / math.sqrt(9 * c))
  local b = sslua.randn(k)
  local r = sslua.randn(n, k, h + 2 * pad - 2, wd + 2 * pad - 2)
  local xs, ws, bs = x:clone():requires_grad_(), w:clone():requires_grad_(), b:clone():requires_grad_()
  local y = F.conv2d(xs, ws, bs, { padding = pad })
  ;(y * r):sum():backward()
  local ry, rgx, rgw, rgb = direct(x:double():totable(), w:double():totable(), b:double():totable(), r:double():totable(), pad)
  local what = table.concat(s, "x")
  local tol = 1e-5
  check.truthy(maxrel(y, sslua.tensor(ry):double()) < tol, what .. " forward, got " .. maxrel(y, sslua.tensor(ry):double()))
  check.truthy(maxrel(xs.grad, sslua.tensor(rgx):double()) < tol, what .. " grad input, got " .. maxrel(xs.grad, sslua.tensor(rgx):double()))
  check.truthy(maxrel(ws.grad, sslua.tensor(rgw):double()) < tol, what .. " grad weight, got " .. maxrel(ws.grad, sslua.tensor(rgw):double()))
  check.truthy(maxrel(bs.grad, sslua.tensor(rgb):double()) < tol, what .. " grad bias")
end

-- the ResNet shapes at their widths (batch small): float32 Winograd within 1e-4 of the float64
-- result (the float64 convolution runs im2col; its gradients are checked by finite differences
-- in test_nn_gradcheck.lua)
sslua.manual_seed(12)
for _, s in ipairs({ { 2, 64, 64, 32, 32 }, { 2, 128, 128, 16, 16 }, { 2, 256, 256, 8, 8 }, { 4, 512, 512, 4, 4 } }) do
  cc.against_float64(s, 1e-4)
end

-- bitwise the same for a given thread count; close across thread counts (the weight gradient's
-- per-worker partial sums are added in worker order)
sslua.manual_seed(13)
cc.thread_consistency(sslua.randn(6, 16, 13, 11), sslua.randn(16, 16, 3, 3), sslua.randn(6, 16, 13, 11), { 1, 5 })
print("ok")
