-- sslua.nn.functional (also sslua.nn.F): PyTorch's torch.nn.functional over the native
-- kernels of sslua._nn, with 1-based Lua conventions.
local common = require "sslua.nn.common"
local sslua, C, fail, is_tensor, pair = common.sslua, common.C, common.fail, common.is_tensor, common.pair
local opts_of, pool_spec, avg_pool_spec = common.opts_of, common.pool_spec, common.avg_pool_spec

local nn = {}   -- what this file adds to sslua.nn

local F = {}
nn.functional = F
nn.F = F

--- conv2d(x, weight[, bias], {stride = 1, padding = 0})
function F.conv2d(x, w, b, o)
  if type(b) == "table" and not is_tensor(b) then o, b = b, nil end
  o = opts_of("conv2d", o, { stride = "number|table", padding = "number|table", groups = "number", dilation = "number" })
  if o.groups ~= nil and o.groups ~= 1 then fail("conv2d", "only groups = 1 is supported", 2) end
  if o.dilation ~= nil and o.dilation ~= 1 then fail("conv2d", "only dilation = 1 is supported", 2) end
  local sh, sw = pair(o.stride or 1, "stride", "conv2d", 1)
  local ph, pw = pair(o.padding or 0, "padding", "conv2d", 0)
  return C.conv2d(x, w, b, sh, sw, ph, pw)
end

--- linear(x, weight[, bias]): x W^T + b with W of size (out, in).
function F.linear(x, w, b) return C.linear(x, w, b) end

--- batch_norm(x, running_mean, running_var, {weight, bias, training = false, momentum = 0.1, eps = 1e-5})
function F.batch_norm(x, rm, rv, o)
  o = opts_of("batch_norm", o, { weight = "tensor", bias = "tensor", training = "boolean", momentum = "number",
    eps = "number", relu = "boolean" })
  return C.batch_norm(x, o.weight, o.bias, rm, rv, o.training and true or false,
    o.momentum or 0.1, o.eps or 1e-5, o.relu and true or false)
end

-- The shared argument reading of the pooling functions: (kernel[, stride], {padding, stride}).
local function pool_args(where, k, s, o, spec)
  if type(s) == "table" and #s == 0 then o, s = s, nil end
  o = opts_of(where, o, spec, 1)
  local kh, kw = pair(k, "kernel size", where, 1, 1)
  local sh, sw = pair(s or o.stride or { kh, kw }, "stride", where, 1, 1)
  local ph, pw = pair(o.padding or 0, "padding", where, 0, 1)
  if o.ceil_mode then fail(where, "ceil_mode is not supported", 3) end
  return o, kh, kw, sh, sw, ph, pw
end

--- max_pool2d(x, kernel[, stride], {padding = 0}); stride defaults to the kernel size.
function F.max_pool2d(x, k, s, o)
  local _, kh, kw, sh, sw, ph, pw = pool_args("max_pool2d", k, s, o, pool_spec)
  return C.max_pool2d(x, kh, kw, sh, sw, ph, pw)
end

--- avg_pool2d(x, kernel[, stride], {padding = 0, count_include_pad = true})
function F.avg_pool2d(x, k, s, o)
  local opts, kh, kw, sh, sw, ph, pw = pool_args("avg_pool2d", k, s, o, avg_pool_spec)
  return C.avg_pool2d(x, kh, kw, sh, sw, ph, pw, opts.count_include_pad ~= false)
end

--- adaptive_avg_pool2d(x, size): size is an integer or {h, w}.
function F.adaptive_avg_pool2d(x, size)
  local oh, ow = pair(size, "output size", "adaptive_avg_pool2d", 1)
  return C.adaptive_avg_pool2d(x, oh, ow)
end

-- sslua.relu(x) rather than x:relu(): a non-tensor x is then an error naming the function.
function F.relu(x) return sslua.relu(x) end
function F.leaky_relu(x, a) return sslua.leaky_relu(x, a or 0.01) end

--- relu(a + b) in one pass (the end of a residual block).
function F.add_relu(a, b) return C.add_relu(a, b) end

return nn
