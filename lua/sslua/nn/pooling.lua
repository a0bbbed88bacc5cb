-- The pooling layers: nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d.
local common, Module = require "sslua.nn.common", require("sslua.nn.module").Module
local sslua, C, fail, pair, opts_of = common.sslua, common.C, common.fail, common.pair, common.opts_of
local pool_spec, avg_pool_spec, check_input = common.pool_spec, common.avg_pool_spec, common.check_input
local class = common.class

local nn = {}   -- what this file adds to sslua.nn

--- nn.MaxPool2d(kernel[, stride], {padding = 0}); stride defaults to the kernel size.
local function make_pool(name, fn, extra)
  local cls = class(name, Module)
  cls.forward = function(self, x)
    check_input(name, x, { 4 })
    local k, s, p = self.kernel_size, self.stride, self.padding
    return fn(x, k, s, p, self)
  end
  cls.extra_repr = function(self)
    local k, s, p = self.kernel_size, self.stride, self.padding
    return string.format("kernel_size=(%d, %d), stride=(%d, %d), padding=(%d, %d)", k[1], k[2], s[1], s[2], p[1], p[2])
  end
  function cls:__init(k, s, o)
    if type(s) == "table" and #s == 0 then o, s = s, nil end
    o = opts_of(name, o, extra and avg_pool_spec or pool_spec)
    if o.ceil_mode then fail(name, "ceil_mode is not supported", 2) end
    Module._setup(self)
    local kh, kw = pair(k, "kernel size", name, 1)
    local sh, sw = pair(s or o.stride or { kh, kw }, "stride", name, 1)
    local ph, pw = pair(o.padding or 0, "padding", name, 0)
    if ph * 2 > kh or pw * 2 > kw then fail(name, "padding should be at most half of the kernel size", 2) end
    self.kernel_size, self.stride, self.padding = { kh, kw }, { sh, sw }, { ph, pw }
    if extra then extra(self, o) end
    return self
  end
  return cls
end

nn.MaxPool2d = make_pool("MaxPool2d", function(x, k, s, p) return C.max_pool2d(x, k[1], k[2], s[1], s[2], p[1], p[2]) end)
nn.AvgPool2d = make_pool("AvgPool2d", function(x, k, s, p, self)
  return C.avg_pool2d(x, k[1], k[2], s[1], s[2], p[1], p[2], self.count_include_pad)
end, function(self, o) self.count_include_pad = o.count_include_pad ~= false end)

--- nn.AdaptiveAvgPool2d(size): size an integer or {h, w}.
local AdaptiveAvgPool2d = class("AdaptiveAvgPool2d", Module)
function AdaptiveAvgPool2d:__init(size)
  Module._setup(self)
  local h, w = pair(size, "output size", "AdaptiveAvgPool2d", 1)
  self.output_size = { h, w }
  return self
end
nn.AdaptiveAvgPool2d = AdaptiveAvgPool2d
function AdaptiveAvgPool2d:forward(x)
  check_input("AdaptiveAvgPool2d", x, { 4 })
  return C.adaptive_avg_pool2d(x, self.output_size[1], self.output_size[2])
end
function AdaptiveAvgPool2d:extra_repr()
  local o = self.output_size
  if o[1] == o[2] then return "output_size=" .. o[1] end
  return string.format("output_size=(%d, %d)", o[1], o[2])
end

return nn
