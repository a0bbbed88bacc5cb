-- sslua.nn layers against PyTorch (Tests/fixtures/make_nn.py): forward values and gradients.
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local nn = require "sslua.nn"
local F = nn.functional
local fx = dofile("Tests/fixtures/nn/layers.lua")

local T = sslua.tensor
local TOL = 2e-4

-- loss = sum(y * r); returns the gradients of the given leaves
local function grads(y, r, leaves)
  (y * T(r)):sum():backward()
  local out = {}
  for i, t in ipairs(leaves) do out[i] = t.grad end
  return table.unpack(out)
end

local function leaf(v) return T(v):requires_grad_() end

-- convolutions
for _, name in ipairs({ "conv_s2p1", "conv_rect" }) do
  local c = fx[name]
  local x, w = leaf(c.x), leaf(c.w)
  local b = c.b and leaf(c.b) or nil
  local y = F.conv2d(x, w, b, { stride = c.stride, padding = c.padding })
  check.near(y, c.y, TOL, name .. " forward")
  local gx, gw, gb = grads(y, c.r, { x, w, b })
  check.near(gx, c.gx, TOL, name .. " grad input")
  check.near(gw, c.gw, TOL, name .. " grad weight")
  if b then check.near(gb, c.gb, TOL, name .. " grad bias") end
end

-- the Conv2d module computes the same as the functional op
do
  local c = fx.conv_s2p1
  local m = nn.Conv2d(3, 4, 3, { stride = 2, padding = 1 })
  sslua.no_grad(function() m.weight:copy_(T(c.w)); m.bias:copy_(T(c.b)) end)
  check.near(m(T(c.x)), c.y, TOL, "Conv2d module")
  check.near(m(T(c.x)[1]), T(c.y)[1], TOL, "Conv2d on an unbatched (C, H, W) input")
end

-- BatchNorm2d: train (batch statistics, running stats updated), then eval (running stats)
do
  local c = fx.bn2d
  local bn = nn.BatchNorm2d(3)
  sslua.no_grad(function()
    bn.weight:copy_(T(c.weight)); bn.bias:copy_(T(c.bias))
    bn.running_mean:copy_(T(c.rm0)); bn.running_var:copy_(T(c.rv0))
  end)
  local x = leaf(c.x)
  local y = bn(x)
  check.near(y, c.y, TOL, "bn2d train forward")
  local gx, gw, gb = grads(y, c.r, { x, bn.weight, bn.bias })
  check.near(gx, c.gx, TOL, "bn2d train grad input")
  check.near(gw, c.gw, TOL, "bn2d train grad weight")
  check.near(gb, c.gb, TOL, "bn2d train grad bias")
  check.near(bn.running_mean, c.rm1, 1e-5, "bn2d running mean (momentum 0.1)")
  check.near(bn.running_var, c.rv1, 1e-5, "bn2d running var (unbiased)")
  check.eq(bn.num_batches_tracked:item(), 1, "num_batches_tracked")
  bn:eval()
  bn:zero_grad()
  local x2 = leaf(c.x)
  local ye = bn(x2)
  check.near(ye, c.y_eval, TOL, "bn2d eval forward")
  local gxe, gwe, gbe = grads(ye, c.r_eval, { x2, bn.weight, bn.bias })
  check.near(gxe, c.gx_eval, TOL, "bn2d eval grad input")
  check.near(gwe, c.gw_eval, TOL, "bn2d eval grad weight")
  check.near(gbe, c.gb_eval, TOL, "bn2d eval grad bias")
  check.near(bn.running_mean, c.rm1, 1e-6, "eval leaves running stats alone")
  check.eq(bn.num_batches_tracked:item(), 1, "eval does not count batches")
end

-- BatchNorm1d on (N, C)
do
  local c = fx.bn1d
  local bn = nn.BatchNorm1d(4)
  sslua.no_grad(function() bn.weight:copy_(T(c.weight)); bn.bias:copy_(T(c.bias)) end)
  local x = leaf(c.x)
  local y = bn(x)
  check.near(y, c.y, TOL, "bn1d forward")
  local gx, gw, gb = grads(y, c.r, { x, bn.weight, bn.bias })
  check.near(gx, c.gx, TOL, "bn1d grad input")
  check.near(gw, c.gw, TOL, "bn1d grad weight")
  check.near(gb, c.gb, TOL, "bn1d grad bias")
  check.near(bn.running_mean, c.rm1, 1e-5, "bn1d running mean")
  check.near(bn.running_var, c.rv1, 1e-5, "bn1d running var")
end

-- momentum = false: cumulative averages of the batch statistics (PyTorch's momentum=None)
do
  local bn = nn.BatchNorm1d(2, { momentum = false })
  bn(T({ { 1, 2 }, { 3, 6 } })); bn(T({ { 5, 0 }, { 7, 2 } }))
  check.near(bn.running_mean, { 4, 2.5 }, 1e-6, "cumulative running mean")
  check.near(bn.running_var, { 2, 5 }, 1e-6, "cumulative running var (unbiased)")
  check.eq(bn.num_batches_tracked:item(), 2)
end

-- pooling
local pools = {
  maxpool_k3s2p1 = function(x) return nn.MaxPool2d(3, 2, { padding = 1 })(x) end,
  maxpool_k2 = function(x) return nn.MaxPool2d(2)(x) end,
  avgpool_k3s2p1 = function(x) return nn.AvgPool2d(3, 2, { padding = 1 })(x) end,
  adaptive_3x2 = function(x) return nn.AdaptiveAvgPool2d({ 3, 2 })(x) end,
  adaptive_1 = function(x) return nn.AdaptiveAvgPool2d(1)(x) end,
}
for name, f in pairs(pools) do
  local c = fx[name]
  local x = leaf(c.x)
  local y = f(x)
  check.near(y, c.y, TOL, name .. " forward")
  check.near(grads(y, c.r, { x }), c.gx, TOL, name .. " grad input")
end

-- linear
do
  local c = fx.linear
  local x, w, b = leaf(c.x), leaf(c.w), leaf(c.b)
  local y = F.linear(x, w, b)
  check.near(y, c.y, TOL, "linear forward")
  local gx, gw, gb = grads(y, c.r, { x, w, b })
  check.near(gx, c.gx, TOL, "linear grad input")
  check.near(gw, c.gw, TOL, "linear grad weight")
  check.near(gb, c.gb, TOL, "linear grad bias")
  local m = nn.Linear(5, 4)
  sslua.no_grad(function() m.weight:copy_(T(c.w)); m.bias:copy_(T(c.b)) end)
  check.near(m(T(c.x)), c.y, TOL, "Linear module")
  check.near(m(T(c.x)[2]), T(c.y)[2], TOL, "Linear on a 1-d input")
end

-- activations, flatten, identity, sequential
do
  local x = T({ { -2, -0.5, 0, 1.5 } })
  check.near(nn.ReLU()(x), { { 0, 0, 0, 1.5 } }, 0, "ReLU")
  check.near(nn.LeakyReLU(0.2)(x), { { -0.4, -0.1, 0, 1.5 } }, 1e-7, "LeakyReLU")
  check.near(nn.LeakyReLU()(x), { { -0.02, -0.005, 0, 1.5 } }, 1e-7, "LeakyReLU default slope 0.01")
  check.near(nn.Identity()(x), x, 0, "Identity")
  local z = sslua.randn(2, 3, 4, 5)
  local f = nn.Flatten()(z)
  check.eq(f:size(1), 2); check.eq(f:size(2), 60)
  check.eq(nn.Flatten(3)(z):size(3), 20, "Flatten(3)")
  local seq = nn.Sequential(nn.Linear(4, 3), nn.ReLU()):add(nn.Linear(3, 2))
  check.eq(#seq, 3, "#Sequential")
  check.eq(seq[3].out_features, 2, "seq[3]")
  local y = seq(x)
  local manual = seq[3](seq[2](seq[1](x)))
  check.near(y, manual, 0, "Sequential chains its modules")
end

-- conv and batch norm: the same result for 1 and 2 worker threads (to rounding), and bitwise
-- repeatable for a fixed thread count
do
  local g = sslua.rng(5)
  local x = sslua.randn(6, 3, 9, 9, { rng = g })
  local w = sslua.randn(4, 3, 3, 3, { rng = g })
  local r = sslua.randn(6, 4, 9, 9, { rng = g })
  local function run(threads)
    local saved = sslua.threads()
    sslua.threads(threads)
    local xx, ww = x:clone():requires_grad_(), w:clone():requires_grad_()
    local y = F.batch_norm(F.conv2d(xx, ww, nil, { padding = 1 }), nil, nil, { training = true })
    ;(y * r):sum():backward()
    sslua.threads(saved)
    return y, xx.grad, ww.grad
  end
  local y1, gx1, gw1 = run(1)
  local y2, gx2, gw2 = run(2)
  local y3, gx3, gw3 = run(2)
  check.near(y2, y1, 1e-5, "conv+bn forward, 1 vs 2 threads")
  check.near(gx2, gx1, 1e-4, "conv input grad, 1 vs 2 threads")
  check.near(gw2, gw1, 1e-4, "conv weight grad, 1 vs 2 threads")
  check.near(y3, y2, 0, "repeatable forward"); check.near(gx3, gx2, 0, "repeatable input grad")
  check.near(gw3, gw2, 0, "repeatable weight grad")
end

print("test_nn_layers: ok")
