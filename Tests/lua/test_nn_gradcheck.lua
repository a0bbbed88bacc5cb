-- Finite-difference gradient checks (float64, central differences) of every nn kernel.
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local nn = require "sslua.nn"
local F = nn.functional
local C = sslua._nn

local g = sslua.rng(42)
local function rnd(...) return sslua.randn({ ... }, { rng = g, dtype = "float64" }) end

-- fn(inputs...) -> tensor; checks d sum(fn * r) / d input for every input against finite
-- differences of step h (r: a standard normal tensor from g).
local G = require "gradcheck"
local function gradcheck(name, fn, inputs, h, tol)
  G.gradcheck(function(xs) return fn(table.unpack(xs)) end, inputs, tol or 1e-6, h, name, g)
end

gradcheck("conv2d stride 2 padding 1 bias",
  function(x, w, b) return F.conv2d(x, w, b, { stride = 2, padding = 1 }) end,
  { rnd(2, 3, 5, 6), rnd(4, 3, 3, 3), rnd(4) })
gradcheck("conv2d rectangular kernel, stride (2, 1)",
  function(x, w) return F.conv2d(x, w, nil, { stride = { 2, 1 }, padding = { 1, 0 } }) end,
  { rnd(1, 2, 5, 4), rnd(3, 2, 2, 3) })
gradcheck("conv2d with a large output plane (per-sample gemm path)",
  function(x, w, b) return F.conv2d(x, w, b, { padding = 1 }) end,
  { rnd(3, 2, 16, 17), rnd(2, 2, 3, 3), rnd(2) })
gradcheck("conv2d stride 1, 2x3 kernel, padding (1, 0) (input grad as a flipped conv)",
  function(x, w, b) return F.conv2d(x, w, b, { padding = { 1, 0 } }) end,
  { rnd(2, 3, 4, 5), rnd(2, 3, 2, 3), rnd(2) })
gradcheck("conv2d 1x1 stride 1",
  function(x, w) return F.conv2d(x, w) end, { rnd(2, 3, 3, 3), rnd(4, 3, 1, 1) })
gradcheck("conv2d 1x1 stride 2",
  function(x, w) return F.conv2d(x, w, nil, { stride = 2 }) end,
  { rnd(3, 2, 5, 5), rnd(3, 2, 1, 1) })

local rm, rv = rnd(3), rnd(3):abs() + 0.5
gradcheck("batch_norm 2d train",
  function(x, w, b) return C.batch_norm(x, w, b, nil, nil, true, 0.1, 1e-5, false) end,
  { rnd(4, 3, 2, 3), rnd(3), rnd(3) })
gradcheck("batch_norm 2d train + fused relu",
  function(x, w, b) return C.batch_norm(x, w, b, nil, nil, true, 0.1, 1e-5, true) end,
  { rnd(4, 3, 2, 3), rnd(3), rnd(3) })
gradcheck("batch_norm 1d train",
  function(x, w, b) return C.batch_norm(x, w, b, nil, nil, true, 0.1, 1e-5, false) end,
  { rnd(6, 4), rnd(4), rnd(4) })
gradcheck("batch_norm eval",
  function(x, w, b) return C.batch_norm(x, w, b, rm, rv, false, 0.1, 1e-5, false) end,
  { rnd(3, 3, 2, 2), rnd(3), rnd(3) })
gradcheck("batch_norm without affine",
  function(x) return C.batch_norm(x, nil, nil, nil, nil, true, 0.1, 1e-5, false) end,
  { rnd(5, 2, 3) })
gradcheck("max_pool2d overlapping windows (k3 s1 p1)",
  function(x) return F.max_pool2d(x, 3, 1, { padding = 1 }) end, { rnd(2, 2, 5, 5) })
gradcheck("max_pool2d k3 s2 p1",
  function(x) return F.max_pool2d(x, 3, 2, { padding = 1 }) end, { rnd(1, 2, 6, 7) })
gradcheck("avg_pool2d k3 s2 p1",
  function(x) return F.avg_pool2d(x, 3, 2, { padding = 1 }) end, { rnd(2, 2, 5, 6) })
gradcheck("avg_pool2d without padding in the count",
  function(x) return F.avg_pool2d(x, 3, 2, { padding = 1, count_include_pad = false }) end, { rnd(1, 2, 5, 5) })
gradcheck("adaptive_avg_pool2d 3x2", function(x) return F.adaptive_avg_pool2d(x, { 3, 2 }) end, { rnd(2, 2, 7, 5) })
gradcheck("adaptive_avg_pool2d 1", function(x) return F.adaptive_avg_pool2d(x, 1) end, { rnd(2, 3, 4, 3) })
gradcheck("linear", function(x, w, b) return F.linear(x, w, b) end, { rnd(5, 3), rnd(4, 3), rnd(4) })
gradcheck("linear on 3-d input", function(x, w) return F.linear(x, w) end, { rnd(2, 3, 3), rnd(2, 3) })
gradcheck("add_relu", function(a, b) return F.add_relu(a, b) end, { rnd(3, 4), rnd(3, 4) })

-- a whole BasicBlock in float64: module parameters converted to double
do
  local blk = nn.BasicBlock(2, 4, 2, { rng = g })
  local ps = {}
  for _, mod in pairs({ blk.conv1, blk.bn1, blk.conv2, blk.bn2, blk.downsample[1], blk.downsample[2] }) do
    for _, n in ipairs(mod._params) do
      mod[n] = mod[n]:detach():double()
      ps[#ps + 1] = { mod, n }
    end
    for _, n in ipairs(mod._buffers) do mod[n] = mod[n]:double() end
  end
  local inputs = { rnd(3, 2, 4, 4) }
  for _, e in ipairs(ps) do inputs[#inputs + 1] = e[1][e[2]] end
  -- the checker steps copies of the inputs: fn puts the parameters it is given into the block
  gradcheck("BasicBlock (train mode)", function(x, ...)
    local given = { ... }
    for k, e in ipairs(ps) do e[1][e[2]] = given[k] end
    return blk(x)
  end, inputs, 1e-6, 1e-5)
end

print("test_nn_gradcheck: ok")
