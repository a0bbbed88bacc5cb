-- nn.Conv2d, the 2-d convolution (im2col or Winograd in the native kernel).
local common, Module = require "sslua.nn.common", require("sslua.nn.module").Module
local sslua, C, fail, pair, opts_of = common.sslua, common.C, common.fail, common.pair, common.opts_of
local check_int, uniform, check_input = common.check_int, common.uniform, common.check_input
local class = common.class

local nn = {}   -- what this file adds to sslua.nn

--- nn.Conv2d(in_channels, out_channels, kernel_size, {stride = 1, padding = 0, bias = true, rng})
local Conv2d = class("Conv2d", Module)
function Conv2d:__init(cin, cout, k, o)
  o = opts_of("Conv2d", o, { stride = "number|table", padding = "number|table", bias = "boolean", rng = "userdata",
    groups = "number", dilation = "number" })
  cin = check_int(cin, "in_channels", "Conv2d")
  cout = check_int(cout, "out_channels", "Conv2d")
  local kh, kw = pair(k, "kernel size", "Conv2d", 1)
  local sh, sw = pair(o.stride or 1, "stride", "Conv2d", 1)
  local ph, pw = pair(o.padding or 0, "padding", "Conv2d", 0)
  if o.groups ~= nil and o.groups ~= 1 then fail("Conv2d", "only groups = 1 is supported", 2) end
  if o.dilation ~= nil and o.dilation ~= 1 then fail("Conv2d", "only dilation = 1 is supported", 2) end
  Module._setup(self)
  self.in_channels, self.out_channels = cin, cout
  self.kernel_size, self.stride, self.padding = { kh, kw }, { sh, sw }, { ph, pw }
  local fan_in = cin * kh * kw
  local bound = 1 / math.sqrt(fan_in)
  self:register_parameter("weight", uniform({ cout, cin, kh, kw }, bound, o))
  if o.bias ~= false then self:register_parameter("bias", uniform({ cout }, bound, o)) end
  return self
end
nn.Conv2d = Conv2d

function Conv2d:forward(x)
  check_input("Conv2d", x, { 3, 4 })
  local s, p = self.stride, self.padding
  if x:dim() == 3 then
    return C.conv2d(x:unsqueeze(1), self.weight, self.bias, s[1], s[2], p[1], p[2]):squeeze(1)
  end
  return C.conv2d(x, self.weight, self.bias, s[1], s[2], p[1], p[2])
end

function Conv2d:extra_repr()
  local k, s, p = self.kernel_size, self.stride, self.padding
  local r = string.format("%d, %d, kernel_size=(%d, %d), stride=(%d, %d)", self.in_channels, self.out_channels,
    k[1], k[2], s[1], s[2])
  if p[1] ~= 0 or p[2] ~= 0 then r = r .. string.format(", padding=(%d, %d)", p[1], p[2]) end
  if self.bias == nil then r = r .. ", bias=false" end
  return r
end

return nn
