-- nn.Linear, the fully connected layer.
local common, Module = require "sslua.nn.common", require("sslua.nn.module").Module
local sslua, C, fail, is_tensor, opts_of = common.sslua, common.C, common.fail, common.is_tensor, common.opts_of
local check_int, uniform, shape_str, class = common.check_int, common.uniform, common.shape_str, common.class

local nn = {}   -- what this file adds to sslua.nn

--- nn.Linear(in_features, out_features, {bias = true, rng})
local Linear = class("Linear", Module)
function Linear:__init(nin, nout, o)
  o = opts_of("Linear", o, { bias = "boolean", rng = "userdata" })
  nin = check_int(nin, "in_features", "Linear", 0)
  nout = check_int(nout, "out_features", "Linear", 0)
  Module._setup(self)
  self.in_features, self.out_features = nin, nout
  local bound = nin > 0 and 1 / math.sqrt(nin) or 0
  self:register_parameter("weight", uniform({ nout, nin }, bound, o))
  if o.bias ~= false then self:register_parameter("bias", uniform({ nout }, bound, o)) end
  return self
end
nn.Linear = Linear

function Linear:forward(x)
  if not is_tensor(x) then fail("Linear", "expected a tensor input, got " .. type(x), 2) end
  if x:dim() == 0 or x:size(-1) ~= self.in_features then
    fail("Linear", "expected input with " .. self.in_features .. " features in its last dimension, got size " .. shape_str(x), 2)
  end
  return C.linear(x, self.weight, self.bias)
end

function Linear:extra_repr()
  return string.format("in_features=%d, out_features=%d, bias=%s", self.in_features, self.out_features,
    tostring(self.bias ~= nil))
end

return nn
